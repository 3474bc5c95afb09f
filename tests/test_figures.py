"""checks/experiments/figures.py: grids, cache/resume, CSV + npz + plots, bad input, single runs."""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest

from dmf_verify.checks.cli import main
from dmf_verify.checks.experiments import figures as F
from dmf_verify.errors import InvalidArgument

TINY = """
task = "completion"
n = 10
rank = 1
m = [40, 60]
depths = [2, 3]
seeds = 2
nuclear = false
"""


def _write(tmp_path, text, name="grid.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _rows(out):
    with open(out / "figure1.csv") as fh:
        return list(csv.DictReader(fh))


def test_tiny_sweep_outputs_and_cache(tmp_path, capsys):
    out = tmp_path / "out"
    cfg = _write(tmp_path, TINY)
    assert main(["experiment", "figure1", "--config", cfg, "--out", str(out), "--no-progress"]) == 0
    rows = _rows(out)
    assert len(rows) == 2 * 2 * 2
    assert set(F.FIELDS) <= set(rows[0])
    for r in rows:
        assert r["status"] == "converged" and float(r["train_loss"]) <= 1e-6
        # reconstruction error = sqrt(test MSE) under the protocol (||W*||_F = n)
        assert np.isclose(float(r["reconstruction_error"]) ** 2, float(r["test_mse"]), rtol=1e-9)
        z = np.load(out / "runs" / f"{r['key']}.npz")
        w, gt = z["solution"], z["ground_truth"]
        assert np.isclose(np.mean((w - gt) ** 2), float(r["test_mse"]), rtol=1e-9)  # recomputable from the npz
        assert np.allclose(w[z["rows"], z["cols"]], z["y"], atol=1e-2)
    assert (out / "figure1.png").stat().st_size > 1000
    # a second run recomputes nothing; deleting one run recomputes just that one
    stamp = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    capsys.readouterr()
    victim = rows[3]["key"]
    os.remove(out / "runs" / f"{victim}.npz")
    assert main(["experiment", "figure1", "--config", cfg, "--out", str(out), "--no-progress", "--no-plot"]) == 0
    assert "7 cached, 1 to do" in capsys.readouterr().err
    for p in (out / "runs").iterdir():
        if p.name != f"{victim}.npz":
            assert p.stat().st_mtime_ns == stamp[p.name]
    again = _rows(out)
    assert [r["test_mse"] for r in again] == [r["test_mse"] for r in rows]  # deterministic


def test_process_pool_gives_the_same_rows(tmp_path):
    cfg = _write(tmp_path, TINY.replace("m = [40, 60]", "m = [40]").replace("seeds = 2", "seeds = 1"))
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["experiment", "figure1", "--config", cfg, "--out", str(a), "--no-progress", "--no-plot"]) == 0
    assert main(["experiment", "figure1", "--config", cfg, "--out", str(b), "--no-progress", "--no-plot",
                 "--jobs", "2"]) == 0
    ra, rb = _rows(a), _rows(b)
    assert [r["key"] for r in ra] == [r["key"] for r in rb]
    assert [float(r["test_mse"]) for r in ra] == pytest.approx([float(r["test_mse"]) for r in rb], rel=1e-12)


def test_quick_with_nuclear_baseline(tmp_path):
    out = tmp_path / "q"
    cfg = _write(tmp_path, 'n = 8\nrank = 1\nm = [30]\ndepths = [3]\nseeds = 1\n')
    assert main(["experiment", "figure8", "--quick", "--config", cfg, "--out", str(out), "--no-progress"]) == 0
    with open(out / "figure8.csv") as fh:
        rows = {r["optimizer"]: r for r in csv.DictReader(fh)}
    assert (out / "figure8.png").exists() and not (out / "figure1.png").exists()
    assert rows["nuclear"]["status"].startswith("optimal")
    # the min nuclear norm is a lower bound for the (interpolating) flow solution, up to solver accuracy
    assert float(rows["flow"]["nuclear_norm"]) >= float(rows["nuclear"]["nuclear_norm"]) * (1 - 1e-3)


def test_divergence_recorded_and_sweep_continues(tmp_path):
    cfg = _write(tmp_path, TINY + 'optimizers = ["gd"]\nlrs = [1e6, 0.5]\n'.replace("", ""))
    out = tmp_path / "d"
    text = open(cfg).read().replace("m = [40, 60]", "m = [40]").replace("seeds = 2", "seeds = 1")
    open(cfg, "w").write(text.replace("nuclear = false", "nuclear = false\ninit_scales = [0.5]\nmax_iter = 3000"))
    # a diverged run is recorded, the others go on, and the exit status says not every run converged
    assert main(["experiment", "figure1", "--config", cfg, "--out", str(out), "--no-progress", "--no-plot"]) == 1
    status = {(r["depth"], r["lr"]): r["status"] for r in _rows(out)}
    assert status[("2", "1000000.0")] == "diverged" and status[("3", "1000000.0")] == "diverged"
    assert status[("2", "0.5")] in ("converged", "max_iter")


@pytest.mark.parametrize("text,needle", [
    ("n = 10\nrank = 11\n", "rank"),
    ("n = 10\nm = [101]\n", "m (number of observations)"),
    ("depths = [0, 2]\n", "depth"),
    ("lrs = [0.0]\n", "lrs"),
    ("init_scales = [-1e-3]\n", "init_scales"),
    ("optimizers = ['adam']\n", "optimizer"),
    ("seeds = 0\n", "seeds"),
    ("bogus_key = 3\n", "bogus_key"),
    ("n = [\n", "not valid TOML"),
])
def test_bad_config(tmp_path, text, needle):
    cfg = _write(tmp_path, text)
    with pytest.raises(InvalidArgument, match=needle.replace("(", r"\(").replace(")", r"\)")):
        F.make_grid("figure1", F.load_config(cfg))
    # through the command line: a clear error and exit code 2, no traceback
    assert main(["experiment", "figure1", "--config", cfg, "--out", str(tmp_path / "x"), "--no-progress"]) != 0


def test_unreadable_config(tmp_path):
    with pytest.raises(InvalidArgument, match="cannot read"):
        F.load_config(tmp_path / "missing.toml")


def test_grid_expansion_and_keys():
    g = F.make_grid("figure1", {"m": [100, 200], "depths": [1, 2], "optimizers": ["gd", "flow"], "seeds": 3}, seed=5)
    specs = F.expand(g)
    assert g["seeds"] == [5, 6, 7]
    assert len(specs) == 2 * 3 * (1 + 2 * 2)
    keys = {F.run_key(s) for s in specs}
    assert len(keys) == len(specs)
    assert F.run_key(F.FigureSpec(**__import__("dataclasses").asdict(specs[0]))) == F.run_key(specs[0])
    assert F.make_grid("figure4")["task"] == "sensing"
    with pytest.raises(InvalidArgument):
        F.make_grid("figure99")


def test_single_runs_print_summary(capsys, tmp_path):
    assert main(["experiment", "completion", "--n", "10", "--rank", "1", "--m", "50", "--depth", "3",
                 "--optimizer", "flow", "--seed", "1", "--out", str(tmp_path)]) == 0
    line = capsys.readouterr().out
    for word in ("iterations=", "seconds=", "train_loss=", "test_mse=", "effective_rank=", "status=converged"):
        assert word in line
    assert len(list((tmp_path / "runs").iterdir())) == 1
    assert main(["experiment", "sensing", "--n", "6", "--rank", "1", "--m", "30", "--depth", "2",
                 "--optimizer", "flow", "--lr", "1.0"]) == 0
    assert "sensing n=6" in capsys.readouterr().out
    assert main(["experiment", "completion", "--n", "5", "--m", "30", "--rank", "1"]) == 2  # m > n^2
    # a run that does not reach the tolerance is reported with its status and exit code 1
    assert main(["experiment", "completion", "--n", "6", "--rank", "1", "--m", "20", "--optimizer", "gd",
                 "--lr", "1e-3", "--max-iter", "5"]) == 1
    assert "status=max_iter" in capsys.readouterr().out
