"""Fault tests of the sweep engine: real sweeps in a subprocess, signals to the main process and to a
worker; assertions on exit status, leftover processes, files and CSV rows. Tiny grids (each run is
a capped GD loop of ~1 s), so the whole file takes well under a minute."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dmf_verify.checks.experiments import figures as F
from dmf_verify.checks.experiments import sweep

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

# GroupRMSprop runs at n = 8 (~5500 iterations, 0.7 s each on a quiet core; lr 3e-4: ~17000, ~2 s)
GRID = """task = "completion"
n = 8
rank = 1
m = [30]
depths = [2]
optimizers = ["adaptive"]
lrs = [{lr}]
seeds = {seeds}
nuclear = false
"""


def _cfg(tmp_path, lr=1e-3, seeds=4):
    p = tmp_path / "grid.toml"
    p.write_text(GRID.format(lr=lr, seeds=seeds))
    return p


def _start(cfg, out, jobs=2):
    cmd = [sys.executable, "-m", "dmf_verify.checks.cli", "experiment", "figure1", "--config", str(cfg),
           "--out", str(out), "--jobs", str(jobs), "--no-plot"]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                kids.append(int(d.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(cond, timeout=30.0, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return False


class _Stderr:
    """Collects the child's stderr lines in a thread."""

    def __init__(self, proc):
        self.lines: list[str] = []
        self.t = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.t.start()

    def _read(self, proc):
        for line in proc.stderr:
            self.lines.append(line)

    def text(self):
        return "".join(self.lines)


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def _no_tmp(out):
    return [p.name for p in (out / "runs").iterdir() if ".tmp" in p.name] if (out / "runs").exists() else []


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_to_main_stops_promptly_and_keeps_finished_runs(tmp_path, sig, code):
    out = tmp_path / "out"
    proc = _start(_cfg(tmp_path, seeds=6), out)
    err = _Stderr(proc)
    assert _wait_for(lambda: "[1/" in err.text(), 60), err.text()
    workers = _children(proc.pid)
    assert len(workers) == 2
    t0 = time.time()
    proc.send_signal(sig)
    rc = proc.wait(timeout=20)
    assert rc == code, err.text()
    assert time.time() - t0 < 10  # promptly: the queued runs are not worked off first
    assert _wait_for(lambda: not any(_alive(w) for w in workers), 10)
    rows = _rows(out / "figure1.csv")
    assert 1 <= len(rows) < 6 and all(r["status"] == "converged" for r in rows)
    cached = list((out / "runs").glob("*.npz"))
    assert len(cached) >= len(rows) and not _no_tmp(out)
    err.t.join(5)
    assert "skipped" in err.text() and "interrupted by" in err.text()
    # resuming computes only what is missing
    proc2 = _start(_cfg(tmp_path, seeds=6), out)
    _, stderr = proc2.communicate(timeout=120)
    assert proc2.returncode == 0, stderr
    assert f"{len(cached)} cached" in stderr
    assert len(_rows(out / "figure1.csv")) == 6


def test_sigkill_to_main_leaves_no_worker_behind(tmp_path):
    out = tmp_path / "out"
    proc = _start(_cfg(tmp_path, lr=3e-4, seeds=4), out)
    err = _Stderr(proc)
    assert _wait_for(lambda: len(_children(proc.pid)) == 2, 60), err.text()
    workers = _children(proc.pid)
    time.sleep(0.5)
    proc.kill()
    proc.wait(timeout=10)
    assert _wait_for(lambda: not any(_alive(w) for w in workers), 10), "workers outlived a SIGKILLed parent"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_dead_worker_costs_only_its_run(tmp_path, sig):
    out = tmp_path / "out"
    cfg = _cfg(tmp_path, lr=3e-4, seeds=4)
    proc = _start(cfg, out)
    err = _Stderr(proc)
    assert _wait_for(lambda: len(_children(proc.pid)) == 2, 60), err.text()
    time.sleep(0.3)
    victim = _children(proc.pid)[0]
    os.kill(victim, sig)
    rc = proc.wait(timeout=120)
    err.t.join(5)
    assert rc == 1, err.text()  # a run failed: non-zero, with the summary line
    rows = _rows(out / "figure1.csv")
    assert len(rows) == 4
    status = [r["status"] for r in rows]
    assert status.count("error") == 1 and status.count("converged") == 3, status
    bad = next(r for r in rows if r["status"] == "error")
    assert "worker process died" in bad["message"] and signal.Signals(sig).name in bad["message"]
    assert "1 failed" in err.text()
    assert not (out / "runs" / f"{bad['key']}.npz").exists()  # error rows are never cached
    # the next invocation retries only the failed run
    proc2 = _start(cfg, out)
    _, stderr = proc2.communicate(timeout=120)
    assert proc2.returncode == 0, stderr
    assert "3 cached, 1 to do" in stderr
    assert all(r["status"] == "converged" for r in _rows(out / "figure1.csv"))


def test_cache_files_are_verified_and_error_rows_not_cached(tmp_path):
    grid = F.make_grid("figure1", {"n": 6, "rank": 1, "m": [20], "depths": [2, 3], "seeds": 1, "nuclear": False})
    specs = F.expand(grid)
    out = tmp_path / "o"
    first = sweep.run_sweep(F.SWEEP, specs, out, progress=False, log=lambda s: None)
    assert first.counts["done"] == 2 and sweep.exit_code(first) == 0
    k0, k1 = (F.run_key(s) for s in specs)
    # a misplaced file (run 0's data under run 1's name) is detected and recomputed, not mixed in
    os.replace(sweep.run_path(out, k0), sweep.run_path(out, k1))
    msgs = []
    again = sweep.run_sweep(F.SWEEP, specs, out, progress=False, log=msgs.append)
    assert "1 mismatch" in msgs[0] and again.counts["done"] == 2
    assert [r["key"] for r in again.rows] == [k0, k1]
    assert [r["depth"] for r in again.rows] == [2, 3]
    # a truncated file is recomputed
    sweep.run_path(out, k0).write_bytes(b"PK\x03\x04garbage")
    assert sweep.load_row(out, k0, sweep.spec_dict(specs[0]))[0] is None
    # an error row is not cached; a time-limit row neither
    bad = sweep.Sweep("bad", F.FigureSpec, 1, F.FIELDS, lambda s: (_ for _ in ()).throw(RuntimeError("boom")))
    row = sweep.execute(bad, specs[0], out)
    assert row["status"] == "error" and "boom" in row["message"]
    assert not sweep.run_path(out, sweep.run_key(bad, specs[0])).exists()
    tl = sweep.Sweep("tl", F.FigureSpec, 1, F.FIELDS, lambda s: ({"status": "time_limit"}, {}))
    sweep.execute(tl, specs[0], out)
    assert not sweep.run_path(out, sweep.run_key(tl, specs[0])).exists()


def _concurrent_saver(args):
    out, n = args
    from dmf_verify.checks.experiments import sweep as S

    for i in range(n):
        S.save_run(out, "samekey", {"a": 1}, {"status": "converged", "i": i}, {})
    return n


def test_concurrent_writers_use_unique_temporary_files(tmp_path):
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Pool(3) as pool:
        done = pool.map(_concurrent_saver, [(str(tmp_path), 40)] * 3)
    assert done == [40, 40, 40]
    row, why = sweep.load_row(tmp_path, "samekey", {"a": 1})
    assert why == "" and row["status"] == "converged"
    assert not [p for p in (tmp_path / "runs").iterdir() if ".tmp" in p.name]


def test_foreign_results_csv_is_kept(tmp_path, capsys):
    from dmf_verify.checks.cli import main

    out = tmp_path / "o"
    out.mkdir()
    (out / "figure1.csv").write_text("my,own,table\n1,2,3\n")
    cfg = tmp_path / "g.toml"
    cfg.write_text('n = 6\nrank = 1\nm = [20]\ndepths = [2]\nseeds = 1\nnuclear = false\n')
    assert main(["experiment", "figure1", "--config", str(cfg), "--out", str(out), "--no-plot", "--no-progress"]) == 0
    assert (out / "figure1.csv").read_text() == "my,own,table\n1,2,3\n"
    assert len(_rows(out / "figure1-1.csv")) == 1
    assert "kept" in capsys.readouterr().err


def test_out_must_be_a_writable_directory(tmp_path, capsys):
    from dmf_verify.checks.cli import main

    f = tmp_path / "file"
    f.write_text("x")
    assert main(["experiment", "figure1", "--quick", "--out", str(f), "--no-plot"]) == 2
    assert "not a directory" in capsys.readouterr().err


@pytest.mark.parametrize("text,needle", [("m = []\n", "at least one"), ("depths = []\n", "at least one"),
                                         ("seeds = [-1]\n", "seeds"), ("max_iter = -5\n", "max_iter")])
def test_empty_or_negative_grid_values_are_errors(tmp_path, text, needle, capsys):
    from dmf_verify.checks.cli import main

    cfg = tmp_path / "g.toml"
    cfg.write_text(text)
    assert main(["experiment", "figure1", "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert needle in capsys.readouterr().err


def test_grid_json_and_summary_line(tmp_path, capsys):
    from dmf_verify.checks.cli import main

    cfg = tmp_path / "g.toml"
    cfg.write_text('n = 6\nrank = 1\nm = [20]\ndepths = [2]\nseeds = 1\nnuclear = false\n')
    assert main(["experiment", "figure8", "--config", str(cfg), "--out", str(tmp_path), "--no-plot"]) == 0
    err = capsys.readouterr().err
    assert "1 runs: 1 done, 0 cached, 0 failed, 0 diverged, 0 skipped" in err
    assert json.loads((tmp_path / "figure8.grid.json").read_text())["n"] == 6
