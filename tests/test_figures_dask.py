"""``--dask ADDRESS`` of the sweep engine (checks/experiments/sweep.py) against a LocalCluster.

The cluster tests are skipped when the optional extra dask[distributed] is not installed.
"""

from __future__ import annotations

import csv
import math
import sys

import numpy as np
import pytest

from dmf_verify.checks.cli import main
from dmf_verify.checks.experiments import figures as F
from dmf_verify.checks.experiments import sweep as S
from dmf_verify.errors import InvalidArgument


def _grid_rows(specs, out, *, dask=None, log=None):
    return S.run_sweep(F.SWEEP, specs, out, progress=False, dask=dask, log=log or (lambda s: None)).rows

# --quick grid, shrunk further: n = 10, rank 1, m = 40, depths 2 and 3, one seed, with the
# nuclear-norm baseline: 3 runs (2 flow + 1 SCS), ~2 s in all.
TINY = 'n = 10\nrank = 1\nm = [40]\ndepths = [2, 3]\nseeds = 1\n'
TIMING = {"seconds"}


def _rows(out):
    with open(out / "figure1.csv") as fh:
        return list(csv.DictReader(fh))


def _same_row(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for k, va in a.items():
        if k in TIMING:
            continue
        try:
            x, y = float(va), float(b[k])
        except (TypeError, ValueError):
            assert va == b[k], k
        else:
            assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-9, abs=0), k


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    # threads, not processes: starts in < 1 s and needs no spawned interpreter; the task code
    # (serialization of specs, rows and .npz bytes) is the same as on a remote worker.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cl:
        yield cl


def test_dask_sweep_same_rows_and_npz_as_local(tmp_path, cluster, capsys):
    cfg = tmp_path / "grid.toml"
    cfg.write_text(TINY)
    local, remote = tmp_path / "local", tmp_path / "dask"
    base = ["experiment", "figure1", "--quick", "--config", str(cfg), "--no-progress", "--no-plot"]
    assert main(base + ["--out", str(local)]) == 0
    assert main(base + ["--out", str(remote), "--dask", cluster.scheduler_address]) == 0
    assert "dask=" in capsys.readouterr().err
    ra, rb = _rows(local), _rows(remote)
    assert len(ra) == 3 and {r["optimizer"] for r in ra} == {"flow", "nuclear"}
    assert [r["key"] for r in ra] == [r["key"] for r in rb]  # same cache keys, same order
    for a, b in zip(ra, rb):
        _same_row(a, b)
        assert b["status"] in ("converged", "optimal", "optimal_inaccurate")
    # the same per-run .npz files, written on the client side
    assert sorted(p.name for p in (local / "runs").iterdir()) == sorted(p.name for p in (remote / "runs").iterdir())
    for r in rb:
        with np.load(local / "runs" / f"{r['key']}.npz") as za, np.load(remote / "runs" / f"{r['key']}.npz") as zb:
            assert set(za.files) == set(zb.files)
            for name in za.files:
                if name in ("__row__",):
                    continue
                if za[name].dtype.kind == "f":
                    assert np.allclose(za[name], zb[name], rtol=1e-9, atol=0), name
                else:
                    assert np.array_equal(za[name], zb[name]), name
    # resumable: nothing to do (and no connection needed); a deleted run is recomputed on the cluster
    assert main(base + ["--out", str(remote), "--dask", "tcp://127.0.0.1:1"]) == 0
    assert "3 cached, 0 to do" in capsys.readouterr().err
    (remote / "runs" / f"{rb[1]['key']}.npz").unlink()
    assert main(base + ["--out", str(remote), "--dask", cluster.scheduler_address]) == 0
    assert "2 cached, 1 to do" in capsys.readouterr().err
    _same_row(_rows(remote)[1], ra[1])


def test_dask_failed_task_recorded_and_retried_on_resume(tmp_path, cluster):
    import dataclasses

    g = F.make_grid("figure1", {"n": 8, "rank": 1, "m": [30], "depths": [2], "seeds": 1, "nuclear": False})
    good = F.expand(g)[0]
    bad = dataclasses.replace(good, seed=1, task="tensor")  # raises inside the task: an error row
    rows = _grid_rows([good, bad], tmp_path, dask=cluster.scheduler_address)
    assert rows[0]["status"] == "converged"
    assert rows[1]["status"] == "error" and "task" in rows[1]["message"]
    assert rows[1]["key"] == F.run_key(bad)
    assert (tmp_path / "runs" / f"{rows[0]['key']}.npz").exists()
    assert not (tmp_path / "runs" / f"{rows[1]['key']}.npz").exists()  # not cached: retried next time
    msgs = []
    rows2 = _grid_rows([good, bad], tmp_path, dask=cluster.scheduler_address, log=msgs.append)
    assert "1 cached, 1 to do" in msgs[0]
    assert rows2[1]["status"] == "error" and rows2[0]["test_mse"] == rows[0]["test_mse"]


def test_dask_task_restores_blas_environment(tmp_path, monkeypatch):
    # the task runs with one BLAS thread and gives a thread-based worker's process its environment back
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    seen = {}
    real = F.SWEEP.run

    def spy(spec):
        seen.update({v: S.os.environ.get(v) for v in S.BLAS_THREAD_VARS})
        return real(spec)

    monkeypatch.setattr(F, "SWEEPS", {"figures": dataclasses_replace(F.SWEEP, run=spy)})
    spec = F.expand(F.make_grid("figure1", {"n": 6, "rank": 1, "m": [20], "depths": [2], "seeds": 1,
                                            "nuclear": False}))[0]
    row, data = S.dask_task(F.__name__, "figures", S.spec_dict(spec))
    assert set(seen.values()) == {"1"}
    assert S.os.environ["OMP_NUM_THREADS"] == "7" and "OPENBLAS_NUM_THREADS" not in S.os.environ
    assert row["key"] == F.run_key(spec) and data[:2] == b"PK"  # a zip (.npz)


def dataclasses_replace(obj, **kw):
    import dataclasses

    return dataclasses.replace(obj, **kw)


def test_one_blas_thread_is_reference_counted_across_threads(monkeypatch):
    # a worker with several threads: tasks overlap; the setting holds until the last one leaves
    import threading

    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    inside, release, seen = threading.Barrier(3), threading.Event(), []

    def task():
        S.enter_one_blas_thread()
        try:
            inside.wait(timeout=10)
            release.wait(timeout=10)
            seen.append(S.os.environ["OMP_NUM_THREADS"])
        finally:
            S.exit_one_blas_thread()

    threads = [threading.Thread(target=task) for _ in range(3)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join(timeout=10)
    assert seen == ["1", "1", "1"]
    assert S.os.environ["OMP_NUM_THREADS"] == "3" and S._ONE_THREAD["depth"] == 0


def test_dask_bad_address_is_a_clear_error(tmp_path, capsys):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    cfg = tmp_path / "grid.toml"
    cfg.write_text(TINY)
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = main(["experiment", "figure1", "--config", str(cfg), "--no-progress", "--no-plot",
                     "--out", str(tmp_path / "x"), "--dask", "tcp://127.0.0.1:1"])
    assert code == 2
    assert "cannot connect to the Dask scheduler at 'tcp://127.0.0.1:1'" in capsys.readouterr().err


def test_dask_workers_that_cannot_run_tasks_fail_fast(tmp_path, cluster, monkeypatch):
    def probe():
        raise ModuleNotFoundError("No module named 'checks'")

    monkeypatch.setattr(S, "dask_probe", probe)
    spec = F.expand(F.make_grid("figure1", {"n": 6, "rank": 1, "m": [20], "depths": [2], "seeds": 1,
                                            "nuclear": False}))[0]
    with pytest.raises(InvalidArgument, match="is the same dmf-verify installed on every worker"):
        _grid_rows([spec], tmp_path, dask=cluster.scheduler_address)
    assert not list((tmp_path / "runs").glob("*.npz")) if (tmp_path / "runs").exists() else True


def test_dask_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were not installed
    with pytest.raises(InvalidArgument, match=r"dask\[distributed\]"):
        S.connect_dask("tcp://127.0.0.1:8786")
    # the modules themselves never import dask
    assert "distributed" not in S.__dict__ and "distributed" not in F.__dict__


def test_dask_worker_process_one_blas_thread(tmp_path):
    # a real worker process (TCP, pickled specs/rows/.npz bytes, the nanny's environment)
    distributed = pytest.importorskip("distributed")
    g = F.make_grid("figure1", {"n": 8, "rank": 1, "m": [30], "depths": [3], "seeds": 1, "nuclear": False})
    specs = F.expand(g)
    local = _grid_rows(specs, tmp_path / "local")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cl:
        rows = _grid_rows(specs, tmp_path / "dask", dask=cl.scheduler_address)
        with distributed.Client(cl.scheduler_address) as client:
            env = client.run(lambda: {v: S.os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
            pids = client.run(S.os.getpid)
    assert all(e == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"} for e in env.values())
    assert S.os.getpid() not in pids.values()
    _same_row(rows[0], local[0])
    assert (tmp_path / "dask" / "runs" / f"{rows[0]['key']}.npz").exists()
