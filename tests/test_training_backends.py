"""Training: the torch backend against numpy, batched runs, the public code's random streams,
initializations, the float32 sensing operator, mini-batch SGD and the MovieLens loader."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dmf_verify.errors import InvalidArgument
from dmf_verify.numerics import training as T
from dmf_verify.numerics.model import imbalance_norm, product

torch = pytest.importorskip("torch")


# --- torch backend (CPU) equals numpy ---------------------------------------------------------

@pytest.mark.parametrize("opt,lr", [("gd", 0.5), ("adaptive", 1e-2), ("sgd", 1e-2)])
@pytest.mark.parametrize("task", ["completion", "sensing"])
def test_torch_steps_equal_numpy(opt, lr, task):
    p = T.make_problem(task, 8, 1, 30, seed=2)
    fs = T.init_factors(8, 3, 1e-2, seed=2)
    a = T.train(p, fs, optimizer=opt, lr=lr, max_iter=200, tol=0.0, batch_size=10)
    b = T.train(p, fs, optimizer=opt, lr=lr, max_iter=200, tol=0.0, batch_size=10, backend="torch", device="cpu")
    assert a.status == b.status == "max_iter" and a.iterations == b.iterations == 200
    assert b.backend == "torch" and b.stats["device"] == "cpu"
    np.testing.assert_allclose(b.product, a.product, rtol=1e-10, atol=1e-13)
    assert b.loss == pytest.approx(a.loss, rel=1e-9)


@pytest.mark.parametrize("task,m,depth", [("completion", 60, 3), ("sensing", 40, 2)])
def test_torch_flow_equals_numpy(task, m, depth):
    p = T.make_problem(task, 12 if task == "completion" else 8, 1, m, seed=0)
    fs = T.init_factors(p.n, depth, 1e-3 if task == "completion" else 1e-2, seed=0)
    a = T.train(p, fs, optimizer="flow", lr=1.0)
    b = T.train(p, fs, optimizer="flow", lr=1.0, backend="torch", device="cpu")
    assert a.status == b.status == "converged"
    assert a.nfev == b.nfev  # the same steps: same integrator code on the other array type
    np.testing.assert_allclose(b.product, a.product, rtol=1e-9, atol=1e-12)
    # float32: the same answer to float32 tolerance
    c = T.train(p, fs, optimizer="flow", lr=1.0, backend="torch", device="cpu", dtype=np.float32)
    assert c.status == "converged"
    assert np.linalg.norm(c.product - a.product) / np.linalg.norm(a.product) < 1e-2


def test_train_batch_equals_single_runs():
    from dmf_verify.numerics.torch_backend import train_batch

    ps = [T.completion_problem(10, 1, 50, seed=s) for s in range(3)]
    fls = [T.init_factors(10, 2, 1e-2, seed=s) for s in range(3)]
    batch = train_batch(ps, fls, optimizer="adaptive", lr=1e-2, device="cpu")
    for p, fl, rb in zip(ps, fls, batch):
        r = T.train(p, fl, optimizer="adaptive", lr=1e-2)
        assert r.status == rb.status == "converged"
        assert abs(r.iterations - rb.iterations) <= 1  # summation order of the batched products
        assert np.linalg.norm(rb.product - r.product) / np.linalg.norm(r.product) < 1e-3
    with pytest.raises(InvalidArgument):
        train_batch(ps, fls, optimizer="flow")
    with pytest.raises(InvalidArgument):
        train_batch(ps[:2], [T.init_factors(10, 2, 1e-2), T.init_factors(10, 3, 1e-2)])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_flow_matches_cpu():  # pragma: no cover - needs a GPU
    p = T.completion_problem(20, 2, 150, seed=0)
    fs = T.init_factors(20, 3, 1e-3, seed=0)
    a = T.train(p, fs, optimizer="flow", lr=1.0)
    b = T.train(p, fs, optimizer="flow", lr=1.0, backend="torch", device="cuda")
    assert b.status == "converged" and b.stats["device"].startswith("cuda")
    assert np.linalg.norm(b.product - a.product) / np.linalg.norm(a.product) < 1e-6


def test_cuda_requested_without_gpu_is_an_error():
    if torch.cuda.is_available():  # pragma: no cover
        pytest.skip("a GPU is present")
    p = T.completion_problem(6, 1, 10, seed=0)
    with pytest.raises(InvalidArgument, match="CUDA"):
        T.train(p, T.init_factors(6, 2, 1e-3), backend="torch", device="cuda")


# --- the public code's random streams -----------------------------------------------------------
# An independent re-implementation of the documented sequence of calls of its scripts (gen_gt.py,
# gen_obs.py, main.py), on the GLOBAL generators exactly as the scripts use them, against
# training.py's private generators.

def _public_gt(n, r, seed):
    np.random.seed(seed)
    u = np.random.randn(n, r).astype(np.float32)
    v = np.random.randn(n, r).astype(np.float32)
    w = u.dot(v.T) / np.float32(np.sqrt(r))  # numpy 1.x value-based casting keeps float32
    return w / np.linalg.norm(w, "fro") * n


def _public_model(n, depth, init, init_scale, seed):
    from torch import nn

    torch.manual_seed(seed)
    hidden = [n] + [n] * depth
    model = nn.Sequential(*[nn.Linear(a, b, bias=False) for a, b in zip(hidden, hidden[1:])])
    for param in model.parameters():
        if init == "gaussian":
            nn.init.normal_(param, std=init_scale ** (1.0 / depth) * n ** -0.5)
        elif init == "orthogonal":
            nn.init.orthogonal_(param)
            param.data.mul_((init_scale * np.sqrt(n)) ** (1.0 / depth))
        else:
            nn.init.eye_(param)
            param.data.mul_(init_scale ** (1.0 / depth))
    weight = None
    for fc in model.children():
        weight = fc.weight.t() if weight is None else fc(weight)
    return [p.detach().numpy().astype(np.float64) for p in model.parameters()], weight.detach().numpy()


@pytest.mark.parametrize("seed", [0, 7])
def test_public_streams_bit_for_bit(seed):
    n, r, m = 10, 2, 37
    state = np.random.get_state()
    try:
        gt = _public_gt(n, r, seed)
    finally:
        np.random.set_state(state)
    p = T.completion_problem(n, r, m, seed=seed, rng="public")
    assert p.ground_truth.dtype == np.float64 and np.array_equal(p.ground_truth, gt.astype(np.float64))
    torch.manual_seed(seed)
    idx = torch.multinomial(torch.ones(n * n), m, replacement=False)
    assert np.array_equal(p.loss.rows, (idx // n).numpy()) and np.array_equal(p.loss.cols, (idx % n).numpy())
    assert np.array_equal(p.loss.values, gt[(idx // n).numpy(), (idx % n).numpy()].astype(np.float64))
    s = T.sensing_problem(n, r, m, seed=seed, rng="public")
    torch.manual_seed(seed)
    xs = torch.randn(m, n, n) / n
    ys = (xs * torch.from_numpy(gt)).sum(dim=-1).sum(dim=-1)
    assert np.array_equal(s.loss.A, xs.numpy()) and np.array_equal(s.loss.y, ys.numpy().astype(np.float64))
    for init in ("gaussian", "orthogonal", "identity"):
        weights, e2e = _public_model(n, 3, init, 1e-3, seed)
        fs = T.init_factors(n, 3, 1e-3, seed=seed, init=init, rng="public")
        # factor j of W_N ... W_1 is layer (N + 1 - j)'s weight, transposed
        for j, f in enumerate(fs):
            assert np.array_equal(f, weights[len(fs) - 1 - j].T), (init, j)
        np.testing.assert_allclose(product(fs), e2e, rtol=1e-5, atol=1e-12)
    # the project's streams are different draws
    assert not np.array_equal(T.ground_truth(n, r, seed=seed), p.ground_truth)


def test_public_seed_limit():
    with pytest.raises(InvalidArgument, match="2\\*\\*32"):
        T.ground_truth(5, 1, seed=2 ** 32, rng="public")
    with pytest.raises(InvalidArgument, match="rng"):
        T.make_problem("completion", 5, 1, 5, rng="paper")


# --- initializations ---------------------------------------------------------------------------

def test_inits():
    g = T.init_factors(40, 3, 1e-3, seed=1)
    assert abs(np.std(g[0]) / ((1e-3) ** (1 / 3) / math.sqrt(40)) - 1) < 0.05
    o = T.init_factors(20, 3, 1e-3, seed=1, init="orthogonal")
    c = (1e-3 * math.sqrt(20)) ** (1 / 3)
    for f in o:
        np.testing.assert_allclose(f.T @ f, c * c * np.eye(20), atol=1e-12)
    assert imbalance_norm(o) < 1e-12  # balanced
    i = T.init_factors(6, 4, 1e-2, seed=1, init="identity")
    np.testing.assert_allclose(product(i), 1e-2 * np.eye(6), rtol=1e-12)
    with pytest.raises(InvalidArgument, match="init"):
        T.init_factors(6, 2, 1e-3, init="xavier")
    r = T.init_factors(5, 3, 1e-3, seed=0, shape=(7, 5))
    assert product(r).shape == (7, 5)


def test_sgd_minibatches_reach_the_tolerance_and_depend_on_the_seed():
    p = T.completion_problem(8, 1, 40, seed=0)
    fs = T.init_factors(8, 2, 1e-2, seed=0)
    a = T.train(p, fs, optimizer="sgd", lr=5e-3, batch_size=20, tol=1e-4, seed=0)
    b = T.train(p, fs, optimizer="sgd", lr=5e-3, batch_size=20, tol=1e-4, seed=1)
    full = T.train(p, fs, optimizer="gd", lr=5e-3, tol=1e-4)
    assert a.status == b.status == full.status == "converged"
    assert a.iterations != b.iterations or not np.allclose(a.product, b.product)
    with pytest.raises(InvalidArgument, match="batch_size"):
        T.train(p, fs, optimizer="sgd", batch_size=41)


def test_large_sensing_operator_is_float32_and_consistent(monkeypatch):
    monkeypatch.setattr(T, "DENSE_FLOAT64_LIMIT", 100)
    p = T.sensing_problem(10, 1, 50, seed=3)
    assert p.loss.flat.dtype == np.float32 and p.loss.A.shape == (50, 10, 10)
    assert p.loss.value(p.ground_truth) < 1e-12  # y is exact for the stored A
    ref = p.loss.as_float64()
    w = np.random.default_rng(0).standard_normal((10, 10))
    assert p.loss.value(w) == pytest.approx(ref.value(w), rel=1e-5)
    np.testing.assert_allclose(p.loss.gradient(w), ref.gradient(w), rtol=1e-4, atol=1e-6)
    r = T.train(p, T.init_factors(10, 2, 1e-2, seed=3), optimizer="flow", lr=1.0)
    assert r.status == "converged"


def test_flow_stop_is_located_and_rtol_monotone():
    p = T.completion_problem(20, 2, 150, seed=4)
    fs = T.init_factors(20, 3, 1e-3, seed=4)
    runs = [T.train(p, fs, optimizer="flow", lr=1.0, rtol=rt) for rt in (1e-2, 1e-3, 1e-4)]
    for r in runs:
        assert r.status == "converged" and 0.9e-6 <= r.loss <= 1e-6  # stops where a small-step method would
    nfev = [r.nfev for r in runs]
    assert nfev[0] < nfev[1] < nfev[2]
    ref = T.train(p, fs, optimizer="adaptive", lr=1e-3)
    for r in runs[1:]:
        assert abs(p.test_mse(r.product) / p.test_mse(ref.product) - 1) < 0.03


# --- MovieLens-format rating data -------------------------------------------------------------

def _write_udata(path, users=12, items=9, count=60, seed=0):
    rng = np.random.default_rng(seed)
    pairs = rng.choice(users * items, size=count, replace=False)
    lines = [f"{p // items + 1}\t{p % items + 1}\t{int(rng.integers(1, 6))}\t{881250949 + i}"
             for i, p in enumerate(pairs)]
    path.write_text("\n".join(lines) + "\n")
    return pairs


def test_movielens_loader_and_problem(tmp_path):
    from dmf_verify.numerics.ratings import load_ratings, ratings_problem

    f = tmp_path / "u.data"
    pairs = _write_udata(f)
    d = load_ratings(f)
    assert d.count == 60 and d.shape[0] <= 12 and d.shape[1] <= 9
    assert set(d.users * d.shape[1] + d.items) == {int(p // 9) * d.shape[1] + int(p % 9) for p in pairs}
    assert set(np.unique(d.ratings)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    p = ratings_problem(d, m=45, seed=0)
    assert p.loss.m == 45 and p.test[2].size == 15 and p.ground_truth is None
    w = np.full(d.shape, 3.0)
    assert p.test_mse(w) == pytest.approx(np.mean((p.test[2] - 3.0) ** 2))
    r = T.train(p, T.init_factors(max(d.shape), 2, 1e-2, seed=0, shape=d.shape), optimizer="flow", lr=1.0, tol=1e-5)
    assert r.status == "converged" and math.isfinite(p.test_mse(r.product))
    for bad, needle in (("1\t2\t3\n", "expected"), ("0\t1\t3\t5\n", "start at 1"), ("1\t1\tx\t5\n", "non-numeric"),
                        ("1\t1\t3\t5\n1\t1\t4\t6\n", "more than once"), ("", "no ratings")):
        g = tmp_path / "bad.data"
        g.write_text(bad)
        with pytest.raises(InvalidArgument, match=needle):
            load_ratings(g)
    with pytest.raises(InvalidArgument, match="training ratings"):
        ratings_problem(d, m=60)


def test_completion_cli_on_rating_data(tmp_path, capsys):
    from dmf_verify.checks.cli import main

    f = tmp_path / "u.data"
    _write_udata(f, count=70)
    assert main(["experiment", "completion", "--data", str(f), "--m", "50", "--depth", "2", "--tol", "1e-5"]) == 0
    assert "status=converged" in capsys.readouterr().out


def test_sweep_batches_seeds_on_one_device(tmp_path):
    from dmf_verify.checks.experiments import figures as F
    from dmf_verify.checks.experiments import sweep

    grid = F.make_grid("figure1", {"n": 8, "rank": 1, "m": [30], "depths": [2], "seeds": 3, "nuclear": False,
                                   "optimizers": ["adaptive"], "lrs": [1e-2], "backend": "torch"})
    specs = F.expand(grid)
    out = sweep.run_sweep(F.SWEEP, specs, tmp_path / "b", progress=False, log=lambda s: None)
    assert out.counts["done"] == 3
    assert all(r["status"] == "converged" and r["message"].startswith("batched: 3 runs") for r in out.rows)
    single = [F.run_one(s)[0] for s in specs]  # the same runs one by one (no batch)
    for a, b in zip(out.rows, single):
        assert float(a["test_mse"]) == pytest.approx(float(b["test_mse"]), rel=1e-3)
    again = sweep.run_sweep(F.SWEEP, specs, tmp_path / "b", progress=False, log=lambda s: None)
    assert again.counts["cached"] == 3
