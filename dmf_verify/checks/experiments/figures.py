"""Figures 1, 8 (completion) and 4, 5 (sensing) of Arora et al. 2019, at the paper's size, on the sweep engine.

``dmf-verify experiment figure1 --out DIR`` runs a grid of (m, depth, optimizer, init, init scale,
lr, seed) plus the minimum-nuclear-norm baseline (:mod:`~dmf_verify.checks.experiments.sweep`:
cache, local pool or Dask, CSV), then writes ``DIR/figure1.csv`` and ``DIR/figure1.png``. The
four figures share one kind of run, so ``figure8`` after ``figure1`` with the same ``--out``
reuses every cached run. ``completion`` / ``sensing`` run one configuration and print a summary
line. ``--data u.data`` (completion) trains on MovieLens-format rating data instead. See
docs/experiments.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from dmf_verify.checks.experiments import Experiment, sweep
from dmf_verify.errors import InvalidArgument

CACHE_VERSION = 3

FIELDS = ("task", "n", "rank", "m", "depth", "optimizer", "init", "init_scale", "lr", "seed", "rng", "backend",
          "dtype", "rtol", "tol", "iterations", "nfev", "train_loss", "reconstruction_error", "test_mse",
          "nuclear_norm", "effective_rank", "status", "message", "seconds", "key")


@dataclass(frozen=True)
class FigureSpec:
    """One run of the figures: a training run, or (``optimizer="nuclear"``) the baseline."""

    task: str
    n: int
    rank: int
    m: int
    seed: int
    optimizer: str
    depth: int = 0
    init: str = "gaussian"
    init_scale: float = 0.0
    lr: float = 0.0
    tol: float = 0.0
    max_iter: int = 0
    rtol: float = 0.0
    dtype: str = "float64"
    time_limit: float | None = None
    rng: str = "project"
    backend: str = "numpy"
    batch_size: int | None = None
    eps: float = 0.0
    data: str = ""
    data_seed: int = 0


# Defaults of each figure (the paper's sizes); every key can be overridden in a TOML file (--config).
BASE = {
    "task": "completion",
    "n": 100,
    "rank": 5,
    "m": [1500, 2000, 2500, 3000, 4000, 5000],
    "depths": [2, 3, 4],
    "optimizers": ["flow"],
    "inits": ["gaussian"],
    "init_scales": [1e-3],
    "lrs": [1.0],
    "seeds": 3,
    "tol": 1e-6,
    "max_iter": 1_000_000,
    "rtol": 1e-3,
    "dtype": "float64",
    "time_limit": 1800.0,
    "rng": "project",
    "backend": "numpy",
    "batch_size": 0,
    "nuclear": True,
    "nuclear_eps": 1e-6,
    "nuclear_max_entries": 4_000_000,
    "data": "",
}
FIGURES = {
    "figure1": {},
    "figure8": {},
    # sensing at the paper's size: n = 100, rank 5, m up to 5000 Gaussian measurements (a 5000 x 10^4
    # operator kept in float32). The SCS baseline (a dense conic program of m x n^2 entries) runs
    # only where m n^2 <= nuclear_max_entries; above it the plot says it was not computed.
    "figure4": {"task": "sensing", "m": [1000, 2000, 3000, 4000, 5000]},
    "figure5": {"task": "sensing", "m": [1000, 2000, 3000, 4000, 5000]},
}
QUICK = {
    "completion": {"n": 30, "rank": 2, "m": [200, 400], "depths": [2, 3], "seeds": 2, "time_limit": 60.0},
    "sensing": {"n": 12, "rank": 1, "m": [40, 80], "depths": [2, 3], "seeds": 2, "time_limit": 60.0},
}
LIST_KEYS = {"m", "depths", "optimizers", "inits", "init_scales", "lrs"}
DEFAULT_LR = {"flow": 1.0, "adaptive": 1e-3, "gd": 1e-3, "sgd": 1e-3}


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


def _list(value, name):
    vals = value if isinstance(value, list) else [value]
    if not vals:
        raise InvalidArgument(f"{name} must list at least one value, got []")
    return vals


def _ints(value, name, lo=None):
    out = []
    for v in _list(value, name):
        if isinstance(v, bool) or not isinstance(v, int):
            raise InvalidArgument(f"{name} must hold integers, got {v!r}")
        if lo is not None and v < lo:
            raise InvalidArgument(f"{name} must be >= {lo}, got {v}")
        out.append(int(v))
    return out


def _floats(value, name, positive=True):
    out = []
    for v in _list(value, name):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InvalidArgument(f"{name} must hold numbers, got {v!r}")
        if positive and not (math.isfinite(v) and v > 0):
            raise InvalidArgument(f"{name} must be positive and finite, got {v!r}")
        out.append(float(v))
    return out


def _choices(value, name, allowed):
    vals = _list(value, name)
    for v in vals:
        if v not in allowed:
            raise InvalidArgument(f"{name} must be among {tuple(allowed)}, got {v!r}")
    return list(vals)


def validate_grid(cfg: dict, *, seed: int = 0) -> dict:
    from dmf_verify.numerics.training import BACKENDS, INITS, OPTIMIZERS, RNGS, TASKS

    g = dict(cfg)
    if g["task"] not in TASKS:
        raise InvalidArgument(f"task must be one of {TASKS}, got {g['task']!r}")
    (g["n"],) = _ints(g["n"], "n", 1)
    (g["rank"],) = _ints(g["rank"], "rank", 1)
    if not 1 <= g["rank"] <= g["n"]:
        raise InvalidArgument(f"rank must be in [1, n={g['n']}], got {g['rank']}")
    g["m"] = _ints(g["m"], "m", 1)
    cap = g["n"] ** 2 if g["task"] == "completion" else None
    for m in g["m"]:
        if cap is not None and m > cap:
            raise InvalidArgument(f"m (number of observations) must be in [1, n^2={cap}], got {m}")
    g["depths"] = _ints(g["depths"], "depths", 1)
    g["optimizers"] = _choices(g["optimizers"], "optimizers", OPTIMIZERS)
    g["inits"] = _choices(g["inits"], "inits", INITS)
    g["init_scales"] = _floats(g["init_scales"], "init_scales")
    g["lrs"] = _floats(g["lrs"], "lrs")
    if isinstance(g["seeds"], list):
        g["seeds"] = _ints(g["seeds"], "seeds", 0)
    else:
        (count,) = _ints(g["seeds"], "seeds", 1)
        g["seeds"] = [seed + i for i in range(count)]
    for k in ("tol", "rtol", "nuclear_eps"):
        (g[k],) = _floats(g[k], k)
    (g["max_iter"],) = _ints(g["max_iter"], "max_iter", 1)
    (g["batch_size"],) = _ints(g["batch_size"], "batch_size", 0)
    (g["nuclear_max_entries"],) = _ints(g["nuclear_max_entries"], "nuclear_max_entries", 0)
    g["time_limit"] = None if g["time_limit"] in (None, 0) else _floats(g["time_limit"], "time_limit")[0]
    if g["dtype"] not in ("float32", "float64"):
        raise InvalidArgument(f"dtype must be 'float32' or 'float64', got {g['dtype']!r}")
    for k, allowed in (("rng", RNGS), ("backend", BACKENDS)):
        if g[k] not in allowed:
            raise InvalidArgument(f"{k} must be one of {allowed}, got {g[k]!r}")
    if not isinstance(g["nuclear"], bool):
        raise InvalidArgument(f"nuclear must be true or false, got {g['nuclear']!r}")
    if not isinstance(g["data"], str):
        raise InvalidArgument(f"data must be a path (string), got {g['data']!r}")
    if g["data"] and g["task"] != "completion":
        raise InvalidArgument("data (rating files) needs task = 'completion'")
    return g


def expand(grid: dict) -> list[FigureSpec]:
    """One spec per run: training runs for every combination, plus nuclear baselines per (m, seed)."""
    specs = []
    common = {"task": grid["task"], "n": grid["n"], "rank": grid["rank"], "rng": grid["rng"], "data": grid["data"]}
    for m in grid["m"]:
        for seed in grid["seeds"]:
            if grid["nuclear"] and not grid["data"] and (grid["task"] == "completion"
                                                         or m * grid["n"] ** 2 <= grid["nuclear_max_entries"]):
                specs.append(FigureSpec(**common, m=m, seed=seed, optimizer="nuclear", eps=grid["nuclear_eps"]))
            for depth in grid["depths"]:
                for opt in grid["optimizers"]:
                    for init in grid["inits"]:
                        for scale in grid["init_scales"]:
                            for lr in grid["lrs"]:
                                specs.append(FigureSpec(
                                    **common, m=m, seed=seed, depth=depth, optimizer=opt, init=init,
                                    init_scale=scale, lr=lr, tol=grid["tol"], max_iter=grid["max_iter"],
                                    rtol=grid["rtol"] if opt == "flow" else 0.0, dtype=grid["dtype"],
                                    time_limit=grid["time_limit"], backend=grid["backend"],
                                    batch_size=(grid["batch_size"] or None) if opt == "sgd" else None))
    return specs


def run_key(spec: FigureSpec) -> str:
    return sweep.run_key(SWEEP, spec)


# --------------------------------------------------------------------------------------------
# one run


def _problem(spec: FigureSpec):
    from dmf_verify.numerics.training import make_problem

    if spec.data:
        from dmf_verify.numerics.ratings import load_ratings, ratings_problem

        return ratings_problem(load_ratings(spec.data), m=spec.m, seed=spec.data_seed)
    return make_problem(spec.task, spec.n, spec.rank, spec.m, seed=spec.seed, rng=spec.rng)


def run_one(spec: FigureSpec):
    """Run one spec (training or nuclear baseline); return (row, arrays). Divergence and solver
    failures are statuses, not exceptions."""
    import numpy as np

    from dmf_verify.errors import DMFError
    from dmf_verify.numerics.spectral import effective_rank, singular_values
    from dmf_verify.numerics.training import init_factors, train

    problem = _problem(spec)
    arrays = problem.arrays()
    if "A" in arrays and arrays["A"].size > 1_000_000:  # large sensing operators are reproducible from the seed
        del arrays["A"]
    row = {}
    w = None
    try:
        if spec.optimizer == "nuclear":
            from dmf_verify.numerics.nuclear import min_nuclear_norm

            res = min_nuclear_norm(problem.loss, eps=spec.eps, allow_inaccurate=True)
            w = np.asarray(res.W, dtype=np.float64)
            row.update(status=res.status, iterations=res.solver_iterations or "",
                       message=f"primal_residual={res.primal_residual:.3g} duality_gap={res.duality_gap}")
        else:
            shape = tuple(problem.loss.shape)
            fs = init_factors(max(shape), spec.depth, spec.init_scale, seed=spec.seed, init=spec.init,
                              rng=spec.rng if not spec.data else "project", shape=shape)
            res = train(problem.loss, fs, optimizer=spec.optimizer, lr=spec.lr, tol=spec.tol,
                        max_iter=spec.max_iter, rtol=spec.rtol or 1e-3,
                        dtype=np.float32 if spec.dtype == "float32" else np.float64,
                        time_limit=spec.time_limit, backend=spec.backend, batch_size=spec.batch_size,
                        seed=spec.seed)
            w = res.product
            row.update(status=res.status, iterations=res.iterations, nfev=res.nfev)
    except DMFError as exc:
        row.update(status=getattr(exc, "status", None) or "error", message=f"{type(exc).__name__}: {exc}")
    if w is not None and np.all(np.isfinite(w)):
        s = singular_values(w)
        row.update(train_loss=problem.loss.value(w), reconstruction_error=problem.reconstruction_error(w),
                   test_mse=problem.test_mse(w), nuclear_norm=float(s.sum()), effective_rank=effective_rank(s))
        arrays["solution"] = w
    return row, arrays


def _batch_key(spec: FigureSpec):
    """Runs that differ only in the seed share one batched torch run (backend torch, gd/adaptive)."""
    if spec.backend != "torch" or spec.optimizer not in ("gd", "adaptive") or spec.data:
        return None
    return (spec.task, spec.n, spec.rank, spec.m, spec.depth, spec.optimizer, spec.init, spec.init_scale, spec.lr,
            spec.tol, spec.max_iter, spec.dtype, spec.rng)


def run_batch(specs: list[FigureSpec]):
    """Several seeds of one configuration at once on one device (:func:`~dmf_verify.numerics.torch_backend.train_batch`)."""
    import numpy as np

    from dmf_verify.numerics.spectral import effective_rank, singular_values
    from dmf_verify.numerics.torch_backend import train_batch
    from dmf_verify.numerics.training import init_factors

    problems = [_problem(s) for s in specs]
    fls = [init_factors(s.n, s.depth, s.init_scale, seed=s.seed, init=s.init, rng=s.rng) for s in specs]
    s0 = specs[0]
    results = train_batch(problems, fls, optimizer=s0.optimizer, lr=s0.lr, tol=s0.tol, max_iter=s0.max_iter,
                          dtype=np.float32 if s0.dtype == "float32" else np.float64)
    out = []
    for p, r in zip(problems, results):
        arrays = p.arrays()
        if "A" in arrays and arrays["A"].size > 1_000_000:
            del arrays["A"]
        row = {"status": r.status, "iterations": r.iterations, "nfev": r.nfev,
               "message": f"batched: {len(specs)} runs on {r.stats['device']}"}
        w = r.product
        if np.all(np.isfinite(w)):
            sv = singular_values(w)
            row.update(train_loss=p.loss.value(w), reconstruction_error=p.reconstruction_error(w),
                       test_mse=p.test_mse(w), nuclear_norm=float(sv.sum()), effective_rank=effective_rank(sv))
            arrays["solution"] = w
        out.append((row, arrays))
    return out


def _label(spec: FigureSpec) -> str:
    if spec.optimizer == "nuclear":
        return f"{spec.task} m={spec.m} seed={spec.seed} min nuclear norm"
    return f"{spec.task} m={spec.m} seed={spec.seed} depth={spec.depth} {spec.optimizer} {spec.init} {spec.init_scale:g}"


SWEEP = sweep.Sweep("figures", FigureSpec, CACHE_VERSION, FIELDS, run_one,
                    ok=("converged", "optimal", "optimal_inaccurate"), label=_label, module=__name__,
                    batch_key=_batch_key, run_batch=run_batch)
SWEEPS = {"figures": SWEEP}


# --------------------------------------------------------------------------------------------
# summaries and plots


def _num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def summarize(rows: list[dict]) -> dict:
    """{(curve, init, init_scale, lr): {m: {metric: [values over seeds]}}}; curve = 'depth N (opt)' or the baseline."""
    out: dict = {}
    for r in rows:
        if r is None or r.get("status") not in SWEEP.ok:
            continue
        if r.get("optimizer") == "nuclear":
            c = ("min nuclear norm", None, None, None)
        else:
            c = (f"depth {r['depth']} ({r['optimizer']})", r.get("init"), r.get("init_scale"), r.get("lr"))
        by_m = out.setdefault(c, {}).setdefault(int(r["m"]), {})
        for metric in ("reconstruction_error", "test_mse", "nuclear_norm", "effective_rank"):
            v = _num(r.get(metric))
            if v is not None:
                by_m.setdefault(metric, []).append(v)
    return out


PANELS = {
    "figure1": [("reconstruction_error", "reconstruction error  ||W - W*||_F / ||W*||_F", True)],
    "figure4": [("reconstruction_error", "reconstruction error  ||W - W*||_F / ||W*||_F", True)],
    "figure8": [("nuclear_norm", "nuclear norm", False), ("effective_rank", "effective rank", False)],
    "figure5": [("nuclear_norm", "nuclear norm", False), ("effective_rank", "effective rank", False)],
}


def plot(rows: list[dict], out_dir, title: str, *, figure: str = "figure1", grid: dict | None = None) -> list[Path]:
    """One PNG per (init, init scale, lr): the figure's panels against m, one curve per
    depth/optimizer plus the minimum-nuclear-norm baseline; markers at the median over seeds, bars
    from min to max (said in the legend). The error panel marks the stopping floor sqrt(tol): runs
    stop at train MSE <= tol, so no error below about sqrt(tol) is resolved."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [r for r in rows if r is not None]
    summ = summarize(rows)
    base = ("min nuclear norm", None, None, None)
    nuclear = summ.get(base)
    combos = sorted({k[1:] for k in summ if k != base}, key=lambda x: (str(x[0]), float(x[1]), float(x[2])))
    if not combos:
        combos = [(None, None, None)]
    panels = PANELS.get(figure, PANELS["figure1"] + PANELS["figure8"])
    tol = (grid or {}).get("tol")
    paths = []
    for init, scale, lr in combos:
        fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.4), squeeze=False)
        curves = sorted((k[0], v) for k, v in summ.items() if k[1:] == (init, scale, lr) and k != base)
        if nuclear is not None:
            curves.append(("min nuclear norm", nuclear))
        for ax, (metric, label, logy) in zip(axes[0], panels):
            for name, by_m in curves:
                ms = sorted(m for m in by_m if by_m[m].get(metric))
                if not ms:
                    continue
                med = np.array([np.median(by_m[m][metric]) for m in ms])
                lo = np.array([np.min(by_m[m][metric]) for m in ms])
                hi = np.array([np.max(by_m[m][metric]) for m in ms])
                style = {"ls": "--", "color": "k"} if name == "min nuclear norm" else {}
                nseeds = max(len(by_m[m][metric]) for m in ms)
                ax.errorbar(ms, med, yerr=[med - lo, hi - med], marker="o", capsize=3,
                            label=f"{name} (n={nseeds} seeds)", **style)
            if metric == "reconstruction_error" and tol:
                ax.axhline(math.sqrt(tol), color="0.5", ls=":", lw=1.0,
                           label=f"stopping floor ~ sqrt(tol) = {math.sqrt(tol):.0e} (train MSE <= tol)")
            ax.set_xlabel("number of observations m")
            ax.set_ylabel(label)
            if logy:
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
        ax0 = axes[0][0]
        handles, labels = ax0.get_legend_handles_labels()
        ax0.legend(handles, labels, fontsize=7, title="markers: median over seeds; bars: min-max",
                   title_fontsize=7)
        if nuclear is None and grid is not None and grid.get("nuclear") and grid["task"] == "sensing":
            ax0.text(0.02, 0.02, f"min nuclear norm not computed: m n^2 > {grid['nuclear_max_entries']:.0e}",
                     transform=ax0.transAxes, fontsize=7, color="0.3")
        sub = "" if scale is None else f"  (init {init}, scale {float(scale):g}, lr {float(lr):g})"
        fig.suptitle(title + sub, fontsize=10)
        fig.tight_layout()
        name = f"{figure}.png" if len(combos) == 1 else f"{figure}_{init}_scale{float(scale):g}_lr{float(lr):g}.png"
        path = Path(out_dir) / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------
# command line


def _configure_figure(parser: argparse.ArgumentParser, figure: str) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML file overriding grid keys (see docs/experiments.md)")
    sweep.add_sweep_options(parser, default_out=f"out/{figure}")
    parser.add_argument("--seed", type=int, default=0, help="first seed when seeds is a count (seed, seed+1, ...)")
    parser.add_argument("--rng", choices=["project", "public"], default=None,
                        help="random streams: the project's (default) or the public code's (needs torch)")
    parser.add_argument("--backend", choices=["numpy", "torch"], default=None, help="training backend (default numpy)")


def _run_figure(figure: str, args: argparse.Namespace) -> int:
    overrides = load_config(args.config) if args.config else {}
    for k in ("rng", "backend"):
        if getattr(args, k, None):
            overrides[k] = getattr(args, k)
    if args.seed < 0:
        raise InvalidArgument(f"--seed must be >= 0, got {args.seed}")
    grid = make_grid(figure, overrides, quick=args.quick, seed=args.seed)
    out = sweep.prepare_out(args.out)
    (out / f"{figure}.grid.json").write_text(json.dumps(grid, indent=1, sort_keys=True))
    specs = expand(grid)
    outcome = sweep.run_sweep(SWEEP, specs, out, jobs=args.jobs, dask=args.dask, progress=not args.no_progress)
    path = sweep.write_csv(out, figure, FIELDS, outcome.rows)
    if not args.no_plot and not outcome.interrupted:
        title = f"{figure}: {grid['task']}, n={grid['n']}, rank {grid['rank']}, rng {grid['rng']}"
        for p in plot(outcome.rows, out, title, figure=figure, grid=grid):
            print(f"plot: {p}")
    return sweep.report(figure, outcome, path)


def _configure_single(task):
    def configure(parser: argparse.ArgumentParser) -> None:
        from dmf_verify.checks.cli import float_option, int_option

        pos_int, pos_real = int_option(min=1), float_option(min=0.0, min_open=True)
        parser.add_argument("--n", type=pos_int, default=100, help="matrix size n (n x n ground truth; default 100)")
        parser.add_argument("--rank", type=pos_int, default=5, help="rank of the ground truth (default 5)")
        parser.add_argument("--m", type=pos_int, default=2000,
                            help="number of observed entries (completion) or Gaussian measurements (sensing); "
                                 "default 2000")
        parser.add_argument("--depth", type=pos_int, default=3, help="number of factors N (default 3)")
        parser.add_argument("--optimizer", default="flow", choices=["gd", "sgd", "adaptive", "flow", "nuclear"],
                            help="flow (gradient flow, default), adaptive (the public code's GroupRMSprop), gd, "
                                 "sgd (mini-batch), or nuclear (the minimum-nuclear-norm baseline)")
        parser.add_argument("--init", default="gaussian", choices=["gaussian", "orthogonal", "identity"],
                            help="initialization of the factors (default gaussian)")
        parser.add_argument("--init-scale", type=pos_real, default=1e-3,
                            help="initialization scale: ||W(0)||_F ~ init_scale sqrt(n) (default 1e-3)")
        parser.add_argument("--lr", type=pos_real, default=None,
                            help="learning rate (gd/sgd/adaptive; default 1e-3) or first trial step (flow; "
                                 "default 1)")
        parser.add_argument("--tol", type=pos_real, default=1e-6, help="stop at train MSE <= tol (default 1e-6)")
        parser.add_argument("--max-iter", type=pos_int, default=1_000_000,
                            help="at most this many iterations (accepted steps for flow; default 1000000)")
        parser.add_argument("--rtol", type=float_option(min=0.0, max=1.0, min_open=True, max_open=True), default=1e-3,
                            help="flow: relative accuracy in (0, 1) (default 1e-3)")
        parser.add_argument("--batch-size", type=_positive_int, default=None,
                            help="sgd: mini-batch size (default m/10)")
        parser.add_argument("--dtype", default="float64", choices=["float64", "float32"],
                            help="floating-point type of the training loop (default float64)")
        parser.add_argument("--seed", type=int_option(min=0), default=0,
                            help="seed of the instance and the initialization")
        parser.add_argument("--rng", choices=["project", "public"], default="project",
                            help="random streams: the project's (default) or the public code's (needs torch)")
        parser.add_argument("--backend", choices=["numpy", "torch"], default="numpy",
                            help="training backend (torch: cuda when available)")
        if task == "completion":
            parser.add_argument("--data", default=None, metavar="FILE",
                                help="rating data in MovieLens u.data format (user item rating timestamp) instead "
                                     "of a synthetic instance; --m ratings train, the rest test")
        parser.add_argument("--out", default=None, metavar="DIR", help="directory for the run's .npz (optional)")
    return configure


def _positive_int(text: str) -> int:
    from dmf_verify.checks.cli import int_option

    return int_option(min=1)(text)


def _check_data(path: str, m: int) -> None:
    """Read the rating file before the run, so a missing or malformed file is a usage error (exit 2)."""
    from dmf_verify.numerics.ratings import load_ratings

    count = load_ratings(path).count
    if not 1 <= m <= count - 1:
        raise InvalidArgument(f"--m (training ratings) must be an integer in [1, {count - 1}] for {path!r} "
                              f"({count} ratings), got {m}")


def _run_single(task, args) -> int:
    from dmf_verify.numerics.training import OPTIMIZERS

    if getattr(args, "data", None):
        _check_data(args.data, args.m)

    opt = args.optimizer
    lr = args.lr if args.lr is not None else DEFAULT_LR.get(opt, 1.0)
    grid = validate_grid({**BASE, "task": task, "n": args.n, "rank": args.rank, "m": [args.m],
                          "depths": [args.depth], "optimizers": [opt if opt in OPTIMIZERS else "flow"],
                          "inits": [args.init], "init_scales": [args.init_scale], "lrs": [lr],
                          "seeds": [args.seed], "tol": args.tol, "max_iter": args.max_iter, "rtol": args.rtol,
                          "dtype": args.dtype, "time_limit": None, "rng": args.rng, "backend": args.backend,
                          "batch_size": args.batch_size or 0, "data": getattr(args, "data", None) or ""})
    if opt == "nuclear":
        spec = FigureSpec(task=task, n=grid["n"], rank=grid["rank"], m=args.m, seed=args.seed, optimizer="nuclear",
                          eps=BASE["nuclear_eps"], rng=args.rng, data=grid["data"])
    else:
        spec = expand({**grid, "nuclear": False})[0]
    out = sweep.prepare_out(args.out) if args.out else None
    print(f"running {_label(spec)} (rng {spec.rng}, backend {spec.backend}) ...", file=sys.stderr, flush=True)
    row = sweep.execute(SWEEP, spec, out)
    print(f"{task} n={row['n']} rank={row['rank']} m={row['m']} depth={row['depth'] or '-'} "
          f"optimizer={row['optimizer']} seed={row['seed']} rng={row['rng']}: status={row['status']} "
          f"iterations={row.get('iterations', '')} seconds={float(row['seconds']):.2f} "
          f"train_loss={_fmt(row.get('train_loss'))} test_mse={_fmt(row.get('test_mse'))} "
          f"reconstruction_error={_fmt(row.get('reconstruction_error'))} "
          f"nuclear_norm={_fmt(row.get('nuclear_norm'))} effective_rank={_fmt(row.get('effective_rank'))}"
          + (f" ({row['message']})" if row.get("message") else ""))
    return 0 if row["status"] in SWEEP.ok else 1


def _fmt(x) -> str:
    v = _num(x)
    return "nan" if v is None else f"{v:.4g}"


_HELP = {
    "figure1": "Fig. 1: completion (100x100, rank 5): reconstruction error vs m per depth and the min nuclear norm",
    "figure8": "Fig. 8: completion: nuclear norm and effective rank vs m (same runs as figure1)",
    "figure4": "Fig. 4: sensing (100x100, rank 5, m up to 5000): reconstruction error vs m per depth",
    "figure5": "Fig. 5: sensing: nuclear norm and effective rank vs m (same runs as figure4)",
}

EXPERIMENTS = [
    Experiment(name, _HELP[name], (lambda p, _n=name: _configure_figure(p, _n)), (lambda a, _n=name: _run_figure(_n, a)))
    for name in FIGURES
] + [
    Experiment("completion", "one completion run of the protocol; prints a summary line",
               _configure_single("completion"), lambda a: _run_single("completion", a)),
    Experiment("sensing", "one sensing run of the protocol; prints a summary line",
               _configure_single("sensing"), lambda a: _run_single("sensing", a)),
]

