"""Figures 1, 8 (completion) and 4, 5 (sensing) of Arora et al. 2019: sweeps with a cache.

``dmf-verify experiment figure1 --out DIR`` runs a grid of (m, depth, optimizer, init scale,
lr, seed) plus the minimum-nuclear-norm baseline, one run per process-pool task (one BLAS thread
per worker), caches every finished run as ``DIR/runs/<key>.npz`` (key = hash of the run's
parameters, so an interrupted sweep resumes and nothing finished is recomputed), then writes
``DIR/results.csv`` and PNG plots. ``--dask ADDRESS`` sends the same runs to an existing Dask
cluster instead of the local pool (optional extra, imported lazily). ``completion`` / ``sensing``
run one configuration and print a summary line. See docs/experiments.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import threading
import time
from pathlib import Path

from dmf_verify.checks.experiments import Experiment, runcache
from dmf_verify.errors import InvalidArgument

CACHE_VERSION = 1

FIELDS = ["task", "n", "rank", "m", "depth", "optimizer", "init_scale", "lr", "seed", "iterations",
          "nfev", "seconds", "train_loss", "reconstruction_error", "test_mse", "nuclear_norm",
          "effective_rank", "status", "message", "key"]

# Defaults of each figure; every key can be overridden in a TOML file (--config).
BASE = {
    "task": "completion",
    "n": 100,
    "rank": 5,
    "m": [1500, 2000, 2500, 3000, 4000, 5000],
    "depths": [2, 3, 4],
    "optimizers": ["flow"],
    "init_scales": [1e-3],
    "lrs": [1e-3],
    "seeds": 3,
    "tol": 1e-6,
    "max_iter": 1_000_000,
    "rtol": 1e-3,
    "dtype": "float64",
    "time_limit": 600.0,
    "nuclear": True,
    "nuclear_eps": 1e-6,
}
FIGURES = {
    "figure1": {},
    "figure8": {},
    # Sensing: dense Gaussian A_i make both GD (m x n^2 products) and the SCS baseline heavy at
    # n = 100, so the default is a reduced size (override n/rank/m in a config for the full one).
    "figure4": {"task": "sensing", "n": 30, "rank": 2, "m": [150, 225, 300, 450]},
    "figure5": {"task": "sensing", "n": 30, "rank": 2, "m": [150, 225, 300, 450]},
}
QUICK = {
    "completion": {"n": 30, "rank": 2, "m": [200, 400], "depths": [2, 3], "seeds": 2, "time_limit": 60.0},
    "sensing": {"n": 12, "rank": 1, "m": [40, 80], "depths": [2, 3], "seeds": 2, "time_limit": 60.0},
}
LIST_KEYS = {"m", "depths", "optimizers", "init_scales", "lrs"}


# --------------------------------------------------------------------------------------------
# configuration


def load_config(path) -> dict:
    """Read a TOML file of grid overrides; an unreadable file or unknown key raises InvalidArgument."""
    import tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise InvalidArgument(f"cannot read config file {str(path)!r}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"config file {str(path)!r} is not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(BASE))
    if unknown:
        raise InvalidArgument(f"unknown config key(s) {unknown} in {str(path)!r}; known keys: {sorted(BASE)}")
    return data


def make_grid(figure: str | None = None, overrides: dict | None = None, *, quick: bool = False,
              seed: int = 0) -> dict:
    """The validated grid: defaults of ``figure``, then --quick, then ``overrides``."""
    cfg = dict(BASE)
    if figure is not None:
        if figure not in FIGURES:
            raise InvalidArgument(f"unknown figure {figure!r}; known: {sorted(FIGURES)}")
        cfg.update(FIGURES[figure])
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(BASE))
    if unknown:
        raise InvalidArgument(f"unknown config key(s) {unknown}; known keys: {sorted(BASE)}")
    task = overrides.get("task", cfg["task"])
    if quick:
        cfg.update(QUICK.get(task, QUICK["completion"]))
    cfg.update(overrides)
    return validate_grid(cfg, seed=seed)


def _ints(value, name):
    vals = value if isinstance(value, list) else [value]
    out = []
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, int):
            raise InvalidArgument(f"{name} must hold integers, got {v!r}")
        out.append(int(v))
    return out


def _floats(value, name, positive=True):
    vals = value if isinstance(value, list) else [value]
    out = []
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InvalidArgument(f"{name} must hold numbers, got {v!r}")
        if positive and not (math.isfinite(v) and v > 0):
            raise InvalidArgument(f"{name} must be positive and finite, got {v!r}")
        out.append(float(v))
    return out


def validate_grid(cfg: dict, *, seed: int = 0) -> dict:
    from dmf_verify.numerics.training import OPTIMIZERS, TASKS

    g = dict(cfg)
    if g["task"] not in TASKS:
        raise InvalidArgument(f"task must be one of {TASKS}, got {g['task']!r}")
    (g["n"],) = _ints(g["n"], "n")
    (g["rank"],) = _ints(g["rank"], "rank")
    if g["n"] < 1:
        raise InvalidArgument(f"n must be >= 1, got {g['n']}")
    if not 1 <= g["rank"] <= g["n"]:
        raise InvalidArgument(f"rank must be in [1, n={g['n']}], got {g['rank']}")
    g["m"] = _ints(g["m"], "m")
    cap = g["n"] ** 2 if g["task"] == "completion" else None
    for m in g["m"]:
        if m < 1 or (cap is not None and m > cap):
            raise InvalidArgument(f"m (number of observations) must be in [1, n^2={cap}], got {m}"
                                  if cap else f"m must be >= 1, got {m}")
    g["depths"] = _ints(g["depths"], "depths")
    for d in g["depths"]:
        if d < 1:
            raise InvalidArgument(f"depth must be >= 1, got {d}")
    opts = g["optimizers"] if isinstance(g["optimizers"], list) else [g["optimizers"]]
    for o in opts:
        if o not in OPTIMIZERS:
            raise InvalidArgument(f"optimizer must be one of {OPTIMIZERS}, got {o!r}")
    g["optimizers"] = list(opts)
    g["init_scales"] = _floats(g["init_scales"], "init_scales")
    g["lrs"] = _floats(g["lrs"], "lrs")
    if isinstance(g["seeds"], list):
        g["seeds"] = _ints(g["seeds"], "seeds")
    else:
        (count,) = _ints(g["seeds"], "seeds")
        if count < 1:
            raise InvalidArgument(f"seeds must be >= 1, got {count}")
        g["seeds"] = [seed + i for i in range(count)]
    for k in ("tol", "rtol", "nuclear_eps"):
        (g[k],) = _floats(g[k], k)
    (g["max_iter"],) = _ints(g["max_iter"], "max_iter")
    g["time_limit"] = None if g["time_limit"] in (None, 0) else _floats(g["time_limit"], "time_limit")[0]
    if g["dtype"] not in ("float32", "float64"):
        raise InvalidArgument(f"dtype must be 'float32' or 'float64', got {g['dtype']!r}")
    g["nuclear"] = bool(g["nuclear"])
    return g


def expand(grid: dict) -> list[dict]:
    """One spec per run: training runs for every combination, plus nuclear baselines per (m, seed)."""
    specs = []
    common = {"task": grid["task"], "n": grid["n"], "rank": grid["rank"]}
    for m in grid["m"]:
        for seed in grid["seeds"]:
            if grid["nuclear"]:
                specs.append({**common, "m": m, "seed": seed, "optimizer": "nuclear", "eps": grid["nuclear_eps"]})
            for depth in grid["depths"]:
                for opt in grid["optimizers"]:
                    for scale in grid["init_scales"]:
                        for lr in grid["lrs"]:
                            spec = {**common, "m": m, "seed": seed, "depth": depth, "optimizer": opt,
                                    "init_scale": scale, "lr": lr, "tol": grid["tol"],
                                    "max_iter": grid["max_iter"], "dtype": grid["dtype"],
                                    "time_limit": grid["time_limit"]}
                            if opt == "flow":
                                spec["rtol"] = grid["rtol"]
                            specs.append(spec)
    return specs


def run_key(spec: dict) -> str:
    return runcache.run_key(spec, version=CACHE_VERSION)


# --------------------------------------------------------------------------------------------
# one run


def run_spec(spec: dict, out_dir=None) -> dict:
    """Run one spec (training or nuclear baseline); write ``out_dir/runs/<key>.npz``; return the row.

    Failures (divergence, solver failure, any project error) are recorded in ``status`` /
    ``message`` rather than raised, so a sweep continues.
    """
    import numpy as np

    from dmf_verify.errors import DMFError
    from dmf_verify.numerics.spectral import effective_rank, singular_values
    from dmf_verify.numerics.training import init_factors, make_problem, train

    key = run_key(spec)
    row = {k: "" for k in FIELDS}
    row.update({k: spec.get(k, "") for k in ("task", "n", "rank", "m", "depth", "optimizer", "init_scale", "lr", "seed")})
    row["key"] = key
    problem = make_problem(spec["task"], spec["n"], spec["rank"], spec["m"], seed=spec["seed"])
    arrays = problem.arrays()
    w = None
    start = time.perf_counter()
    try:
        if spec["optimizer"] == "nuclear":
            from dmf_verify.numerics.nuclear import min_nuclear_norm

            res = min_nuclear_norm(problem.loss, eps=spec["eps"], allow_inaccurate=True)
            w = np.asarray(res.W, dtype=np.float64)
            row.update(status=res.status, iterations=res.solver_iterations or "",
                       message=f"primal_residual={res.primal_residual:.3g} duality_gap={res.duality_gap}")
        else:
            fs = init_factors(spec["n"], spec["depth"], spec["init_scale"], seed=spec["seed"])
            res = train(problem.loss, fs, optimizer=spec["optimizer"], lr=spec["lr"], tol=spec["tol"],
                        max_iter=spec["max_iter"], rtol=spec.get("rtol", 1e-3),
                        dtype=np.float32 if spec["dtype"] == "float32" else np.float64,
                        time_limit=spec.get("time_limit"))
            w = res.product
            row.update(status=res.status, iterations=res.iterations, nfev=res.nfev)
    except DMFError as exc:
        row.update(status=getattr(exc, "status", None) or "error", message=f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - start, 4)
    if w is not None and np.all(np.isfinite(w)):
        s = singular_values(w)
        row.update(train_loss=problem.loss.value(w), reconstruction_error=problem.reconstruction_error(w),
                   test_mse=problem.test_mse(w), nuclear_norm=float(s.sum()), effective_rank=effective_rank(s))
        arrays["solution"] = w
    if out_dir is not None:
        runcache.save_run(out_dir, key, spec, row, arrays)
    return row


def load_cached(out_dir, spec: dict) -> dict | None:
    return runcache.load_row(out_dir, run_key(spec))




def run_grid(specs: list[dict], out_dir, *, jobs: int = 1, progress: bool = True,
             log=None, dask: str | None = None) -> list[dict]:
    """Run every spec not already cached in ``out_dir`` (process pool when jobs > 1; the
    workers of the Dask cluster at ``dask`` when given, see :func:`_run_dask`)."""
    rows: dict[int, dict] = {}
    todo = []
    for i, spec in enumerate(specs):
        cached = load_cached(out_dir, spec)
        if cached is not None:
            rows[i] = cached
        else:
            todo.append(i)
    client = None
    if dask and todo:
        client = _dask_client(dask)  # connect before the bar: a bad address fails fast and clearly
    if log:
        where = f"dask={dask}" if dask else f"jobs={jobs}"
        log(f"{len(specs)} runs: {len(specs) - len(todo)} cached, {len(todo)} to do, {where}")
    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="runs", file=sys.stderr)
    if client is not None:
        try:
            _run_dask(client, specs, todo, out_dir, rows, bar)
        finally:
            client.close()
    else:
        rows.update(runcache.run_pool(run_spec, specs, todo, out_dir, jobs=jobs, error_row=_error_row,
                                      on_done=bar.update if bar else None))
    if bar:
        bar.close()
    return [rows[i] for i in range(len(specs))]


def _error_row(spec: dict, exc: BaseException) -> dict:
    """The row of a run whose worker failed (no .npz is written, so a resumed sweep retries it)."""
    row = {k: spec.get(k, "") for k in FIELDS}
    row.update(status="error", message=f"{type(exc).__name__}: {exc}", key=run_key(spec))
    return row


# --------------------------------------------------------------------------------------------
# Dask (optional extra: pip install "dask[distributed]")

_BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _dask_client(address: str):
    """``distributed.Client`` for a scheduler address (``tcp://host:8786``) or a scheduler file
    (``*.json`` written by ``dask scheduler --scheduler-file``). Import is lazy: dask is optional."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise InvalidArgument(
            f"--dask {address!r} needs the optional dependency dask[distributed] "
            f"(pip install 'dask[distributed]' or the project's [dask] extra): {exc}") from exc
    try:
        if address.endswith(".json") and Path(address).is_file():
            client = Client(scheduler_file=address)
        else:
            client = Client(address)  # connect timeout: dask config distributed.comm.timeouts.connect
    except (OSError, TimeoutError, ValueError) as exc:
        raise InvalidArgument(f"cannot connect to the Dask scheduler at {address!r}: "
                              f"{type(exc).__name__}: {exc}") from exc
    try:  # fail fast (instead of one error row per run) when a worker cannot run the tasks
        client.run(_dask_probe)
    except Exception as exc:  # whatever the worker raised, as one clear error
        client.close()
        raise InvalidArgument(f"the workers of the Dask cluster at {address!r} cannot run dmf-verify tasks "
                              f"(is the same dmf-verify installed on every worker?): "
                              f"{type(exc).__name__}: {exc}") from exc
    return client


_ONE_THREAD = {"lock": threading.Lock(), "depth": 0, "saved": None, "limits": None}


def _enter_one_blas_thread() -> None:
    """Set one BLAS thread for this process (reference-counted: concurrent tasks of a worker with
    several threads share one setting; the last one out restores the previous state)."""
    with _ONE_THREAD["lock"]:
        _ONE_THREAD["depth"] += 1
        if _ONE_THREAD["depth"] > 1:
            return
        _ONE_THREAD["saved"] = {v: os.environ.get(v) for v in _BLAS_VARS}
        for v in _BLAS_VARS:
            os.environ[v] = "1"
        try:
            from threadpoolctl import threadpool_limits

            _ONE_THREAD["limits"] = threadpool_limits(limits=1)
        except ImportError:
            _ONE_THREAD["limits"] = None


def _exit_one_blas_thread() -> None:
    with _ONE_THREAD["lock"]:
        _ONE_THREAD["depth"] -= 1
        if _ONE_THREAD["depth"] > 0:
            return
        if _ONE_THREAD["limits"] is not None:
            _ONE_THREAD["limits"].restore_original_limits()
            _ONE_THREAD["limits"] = None
        for v, val in (_ONE_THREAD["saved"] or {}).items():
            if val is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = val
        _ONE_THREAD["saved"] = None


def _dask_task(spec: dict) -> tuple[dict, bytes]:
    """Run one spec on a Dask worker with one BLAS thread; return (row, bytes of its .npz).

    The .npz is written to a private temporary directory on the worker and shipped back, so the
    client writes the same ``runs/<key>.npz`` as the local path whether or not the workers share
    the client's file system. The BLAS variables are set to 1 while tasks run (they reach a BLAS
    loaded later and any child process; Dask's nanny already sets OMP/MKL/OPENBLAS_NUM_THREADS=1
    before it starts a worker process), and threadpoolctl, when installed, caps an already loaded
    BLAS. The previous state is restored afterwards (a thread-based worker shares the client's
    process and environment)."""
    import tempfile

    _enter_one_blas_thread()
    try:
        with tempfile.TemporaryDirectory(prefix="dmf-dask-") as tmp:
            row = run_spec(spec, tmp)
            data = (Path(tmp) / "runs" / f"{row['key']}.npz").read_bytes()
        return row, data
    finally:
        _exit_one_blas_thread()


def _dask_probe() -> dict:
    """Runs on every worker before the sweep: fails there when dmf-verify cannot be imported."""
    import numpy

    return {"numpy": numpy.__version__, "cache_version": CACHE_VERSION,
            "omp": os.environ.get("OMP_NUM_THREADS")}


def _store_npz(out_dir, key: str, data: bytes) -> None:
    runs = Path(out_dir) / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    tmp = runs / f"{key}.tmp.npz"
    tmp.write_bytes(data)
    os.replace(tmp, runs / f"{key}.npz")


def _run_dask(client, specs: list[dict], todo: list[int], out_dir, rows: dict, bar) -> None:
    """Submit the specs ``todo`` to the cluster of ``client``; store each result as it completes.

    Each finished run's .npz is written at once (an interrupted sweep keeps it and resumes); a
    task that fails on the cluster (worker lost, exception outside the run's own error handling)
    is recorded with status ``error`` and no .npz, like a crashed pool worker."""
    import secrets

    from distributed import as_completed

    token = secrets.token_hex(4)
    futs = {}
    for i in todo:
        key = run_key(specs[i])
        fut = client.submit(_dask_task, specs[i], key=f"dmf-run-{key}-{token}", pure=False, retries=0)
        futs[fut] = i
    try:
        for fut in as_completed(list(futs)):
            i = futs.pop(fut)
            try:
                row, data = fut.result()
            except Exception as exc:  # noqa: BLE001 - a failed task: record it, keep going
                rows[i] = _error_row(specs[i], exc)
            else:
                _store_npz(out_dir, row["key"], data)
                rows[i] = row
            fut.release()
            if bar:
                bar.update(1)
    finally:
        if futs:  # interrupted: do not leave work running on a shared cluster
            client.cancel(list(futs))


def write_csv(rows: list[dict], path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in FIELDS})


# --------------------------------------------------------------------------------------------
# summaries and plots


def _num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def summarize(rows: list[dict]) -> dict:
    """{(curve, init_scale, lr): {m: {metric: [values over seeds]}}}; curve = 'depth N (opt)' or 'nuclear'."""
    out: dict = {}
    for r in rows:
        if r.get("optimizer") == "nuclear":
            curves = [("min nuclear norm", None, None)]
        else:
            curves = [(f"depth {r['depth']} ({r['optimizer']})", r.get("init_scale"), r.get("lr"))]
        for c in curves:
            by_m = out.setdefault(c, {}).setdefault(int(r["m"]), {})
            for metric in ("reconstruction_error", "test_mse", "nuclear_norm", "effective_rank"):
                v = _num(r.get(metric))
                if v is not None:
                    by_m.setdefault(metric, []).append(v)
    return out


def plot(rows: list[dict], out_dir, title: str) -> list[Path]:
    """One PNG per (init scale, lr): reconstruction error, nuclear norm, effective rank vs m,
    one curve per depth/optimizer plus the nuclear-norm baseline; markers at the median over
    seeds, bars from min to max."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    summ = summarize(rows)
    nuclear = summ.get(("min nuclear norm", None, None))
    combos = sorted({(k[1], k[2]) for k in summ if k[0] != "min nuclear norm"}, key=lambda x: (float(x[0]), float(x[1])))
    if not combos:
        combos = [(None, None)]
    paths = []
    metrics = [("reconstruction_error", "reconstruction error  ||W-W*||_F/||W*||_F", True),
               ("nuclear_norm", "nuclear norm", False), ("effective_rank", "effective rank", False)]
    for scale, lr in combos:
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        curves = [(k[0], v) for k, v in summ.items() if k[1:] == (scale, lr) and k[0] != "min nuclear norm"]
        curves.sort()
        if nuclear is not None:
            curves.append(("min nuclear norm", nuclear))
        for ax, (metric, label, logy) in zip(axes, metrics):
            for name, by_m in curves:
                ms = sorted(m for m in by_m if by_m[m].get(metric))
                if not ms:
                    continue
                med = np.array([np.median(by_m[m][metric]) for m in ms])
                lo = np.array([np.min(by_m[m][metric]) for m in ms])
                hi = np.array([np.max(by_m[m][metric]) for m in ms])
                style = dict(ls="--", color="k") if name == "min nuclear norm" else {}
                ax.errorbar(ms, med, yerr=[med - lo, hi - med], marker="o", capsize=3, label=name, **style)
            ax.set_xlabel("number of observations m")
            ax.set_ylabel(label)
            if logy:
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        sub = "" if scale is None else f"  (init scale {scale:g}, lr {lr:g})"
        fig.suptitle(title + sub)
        fig.tight_layout()
        name = "plot.png" if scale is None else f"plot_scale{float(scale):g}_lr{float(lr):g}.png"
        path = Path(out_dir) / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------
# command line


def _configure_figure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML file overriding grid keys (see docs/experiments.md)")
    parser.add_argument("--out", default=None, help="output directory (default out/<figure>)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (one BLAS thread each)")
    parser.add_argument("--quick", action="store_true", help="tiny grid for CI (seconds)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (seeds = seed, seed+1, ...)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG plots")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="run on an existing Dask cluster: scheduler address (tcp://host:8786) or scheduler "
                             "file (*.json); needs dask[distributed]; --jobs is then ignored")


def _run_figure(figure: str, args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise InvalidArgument(f"--jobs must be >= 1, got {args.jobs}")
    overrides = load_config(args.config) if args.config else {}
    grid = make_grid(figure, overrides, quick=args.quick, seed=args.seed)
    out = Path(args.out or Path("out") / figure)
    out.mkdir(parents=True, exist_ok=True)
    (out / "grid.json").write_text(json.dumps(grid, indent=1, sort_keys=True))
    specs = expand(grid)
    start = time.perf_counter()
    rows = run_grid(specs, out, jobs=args.jobs, progress=not args.no_progress,
                    log=lambda s: print(s, file=sys.stderr), dask=args.dask)
    write_csv(rows, out / "results.csv")
    bad = [r for r in rows if r.get("status") not in ("converged", "optimal", "optimal_inaccurate")]
    print(f"{figure}: {len(rows)} runs in {time.perf_counter() - start:.1f} s -> {out / 'results.csv'}"
          + (f" ({len(bad)} not converged: see status)" if bad else ""))
    if not args.no_plot:
        for p in plot(rows, out, f"{figure}: {grid['task']}, n={grid['n']}, rank {grid['rank']}"):
            print(f"plot: {p}")
    return 0


def _configure_single(task):
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--n", type=int, default=100)
        parser.add_argument("--rank", type=int, default=5)
        parser.add_argument("--m", type=int, default=2000)
        parser.add_argument("--depth", type=int, default=3)
        parser.add_argument("--optimizer", default="flow", choices=["gd", "adaptive", "flow", "nuclear"])
        parser.add_argument("--init-scale", type=float, default=1e-3)
        parser.add_argument("--lr", type=float, default=1e-3)
        parser.add_argument("--tol", type=float, default=1e-6)
        parser.add_argument("--max-iter", type=int, default=1_000_000)
        parser.add_argument("--rtol", type=float, default=1e-3, help="flow: relative accuracy")
        parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--out", default=None, help="directory for the run's .npz (optional)")
    return configure


def _run_single(task, args) -> int:
    grid = validate_grid({**BASE, "task": task, "n": args.n, "rank": args.rank, "m": [args.m],
                          "depths": [args.depth], "optimizers": [args.optimizer if args.optimizer != "nuclear" else "flow"],
                          "init_scales": [args.init_scale], "lrs": [args.lr], "seeds": [args.seed], "tol": args.tol,
                          "max_iter": args.max_iter, "rtol": args.rtol, "dtype": args.dtype, "time_limit": None})
    if args.optimizer == "nuclear":
        spec = {"task": task, "n": grid["n"], "rank": grid["rank"], "m": args.m, "seed": args.seed,
                "optimizer": "nuclear", "eps": BASE["nuclear_eps"]}
    else:
        spec = [s for s in expand({**grid, "nuclear": False})][0]
    row = run_spec(spec, args.out)
    print(f"{task} n={row['n']} rank={row['rank']} m={row['m']} depth={row['depth'] or '-'} "
          f"optimizer={row['optimizer']} seed={row['seed']}: status={row['status']} iterations={row['iterations']} "
          f"seconds={float(row['seconds']):.2f} train_loss={_fmt(row['train_loss'])} test_mse={_fmt(row['test_mse'])} "
          f"reconstruction_error={_fmt(row['reconstruction_error'])} nuclear_norm={_fmt(row['nuclear_norm'])} "
          f"effective_rank={_fmt(row['effective_rank'])}" + (f" ({row['message']})" if row["message"] else ""))
    return 0 if row["status"] in ("converged", "optimal", "optimal_inaccurate") else 1


def _fmt(x) -> str:
    v = _num(x)
    return "nan" if v is None else f"{v:.4g}"


_HELP = {
    "figure1": "Fig. 1: completion (100x100, rank 5): error vs m per depth and the min nuclear norm",
    "figure8": "Fig. 8: completion: nuclear norm and effective rank vs m (same runs as figure1)",
    "figure4": "Fig. 4: sensing (reduced size by default): error vs m per depth and the min nuclear norm",
    "figure5": "Fig. 5: sensing: nuclear norm and effective rank vs m (same runs as figure4)",
}

EXPERIMENTS = [
    Experiment(name, _HELP[name], _configure_figure, (lambda a, _n=name: _run_figure(_n, a)))
    for name in FIGURES
] + [
    Experiment("completion", "one completion run of the protocol; prints a summary line",
               _configure_single("completion"), lambda a: _run_single("completion", a)),
    Experiment("sensing", "one sensing run of the protocol; prints a summary line",
               _configure_single("sensing"), lambda a: _run_single("sensing", a)),
]
