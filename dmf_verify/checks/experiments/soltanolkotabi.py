"""Soltanolkotabi, Stöger & Xie 2023 (docs/theory.md): sweeps of asymmetric sensing over alpha, k, m (and eta).

``dmf-verify experiment soltanolkotabi --out DIR [--quick] [--jobs N]`` runs GD on X = U V^T for every
(m, k, alpha) of the grid (eta = 0.1) plus an eta sweep at a fixed time horizon, one run per
worker process (the sweep engine, :mod:`~dmf_verify.checks.experiments.sweep`). Each finished run
is cached as ``DIR/runs/<key>.npz`` (an interrupted sweep resumes, nothing finished is recomputed).
Writes ``DIR/soltanolkotabi.csv`` (one row per run), ``DIR/soltanolkotabi_slopes.csv`` (fitted
log-log slopes of the final error in alpha per (m, k), of ||D_T|| in alpha, of the accumulated
imbalance in eta) and the PNGs ``soltanolkotabi_error_vs_iteration.png``,
``soltanolkotabi_imbalance_vs_iteration.png``, ``soltanolkotabi_final_error_vs_alpha.png``,
``soltanolkotabi_imbalance_scaling.png``. See docs/soltanolkotabi.md.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from dmf_verify.checks.experiments import Experiment, sweep

CACHE_VERSION = 2
N1, N2, R = 20, 15, 2

FULL = {"ms": [105, 140, 210, 280], "ks": [2, 4, 15], "alphas": [1.0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5],
        "steps": 5000, "etas": [0.1, 0.05, 0.025, 0.0125], "horizon": 40.0, "seeds": 1}
QUICK = {"ms": [105, 210], "ks": [2, 15], "alphas": [1.0, 1e-2, 1e-4], "steps": 1500,
         "etas": [0.1, 0.05], "horizon": 20.0, "seeds": 1}
ETA = 0.1
ETA_SWEEP = {"m": 210, "k": 15, "alpha": 1e-3}

FIELDS = ["kind", "n1", "n2", "r", "m", "k", "alpha", "eta", "steps", "seed", "status", "final_rel_error",
          "final_loss", "imbalance_0", "imbalance_T", "accumulated", "t_alignment_end", "sin_spectral_at_t1",
          "t_local_5pct", "final_sin_star", "seconds", "message", "key"]


@dataclass(frozen=True)
class SoltSpec:
    kind: str
    n1: int
    n2: int
    r: int
    m: int
    k: int
    alpha: float
    eta: float
    steps: int
    seed: int


def _spec(spec) -> SoltSpec:
    return spec if isinstance(spec, SoltSpec) else SoltSpec(**spec)


def run_key(spec) -> str:
    return sweep.run_key(SWEEP, _spec(spec))


def _run_one(spec: SoltSpec):
    """One GD run; returns (row, arrays) with the recorded history."""
    import numpy as np

    from dmf_verify.errors import DMFError
    from dmf_verify.numerics.asymmetric import asymmetric_gd, imbalance, sensing_problem, small_init

    row = {"message": ""}
    arrays = {}
    try:
        p = sensing_problem(spec.n1, spec.n2, spec.r, spec.m, seed=spec.seed)
        u0, v0 = small_init(spec.n1, spec.n2, spec.k, spec.alpha, seed=spec.seed)
        record = 5  # fine enough to locate the phase boundaries (SVDs of 20x15 are cheap)
        res = asymmetric_gd(p, u0, v0, step=spec.eta, steps=spec.steps, record_every=record, angles=True,
                            on_divergence="return")
        h = res.history
        arrays = {f"h_{name}": val for name, val in h.items()}
        norm_star = float(np.linalg.norm(p.x_star))
        big = np.flatnonzero(h["norm"] >= 0.1 * norm_star)
        i1 = int(big[0]) if big.size else len(h["step"]) - 1
        hit = np.flatnonzero(h["rel_error"] <= 0.05)
        row.update(status=res.status, final_rel_error=float(h["rel_error"][-1]) if res.status != "diverged" else "",
                   final_loss=res.loss, imbalance_0=float(np.linalg.norm(imbalance(u0, v0))),
                   imbalance_T=float(np.linalg.norm(imbalance(res.u, res.v))),
                   accumulated=float(np.linalg.norm(res.accumulated)), t_alignment_end=int(h["step"][i1]),
                   sin_spectral_at_t1=float(h["sin_spectral"][i1]),
                   t_local_5pct=int(h["step"][hit[0]]) if hit.size else "", final_sin_star=float(h["sin_star"][-1]))
        if res.status == "diverged":
            row["message"] = f"diverged at step {res.diverged_at}"
    except DMFError as exc:
        row.update(status="error", message=f"{type(exc).__name__}: {exc}")
    return row, arrays


SWEEP = sweep.Sweep("soltanolkotabi", SoltSpec, CACHE_VERSION, tuple(FIELDS), _run_one, ok=("max_steps", "converged"),
                    label=lambda s: f"{s.kind} m={s.m} k={s.k} alpha={s.alpha:g} eta={s.eta:g} seed={s.seed}",
                    module=__name__)
SWEEPS = {"soltanolkotabi": SWEEP}


def run_spec(spec, out_dir=None) -> dict:
    """One run through the engine (cached in ``out_dir/runs`` when given); returns its row."""
    return sweep.execute(SWEEP, _spec(spec), out_dir)


def load_cached(out_dir, spec) -> dict | None:
    return sweep.load_row(out_dir, run_key(spec), asdict(_spec(spec)))[0]


def load_history(out_dir, spec) -> dict:
    z = sweep.load_arrays(out_dir, run_key(spec))
    return {name[2:]: val for name, val in z.items() if name.startswith("h_")}


def build_specs(grid: dict, seed: int) -> list[dict]:
    specs = []
    for s in range(seed, seed + grid["seeds"]):
        for m in grid["ms"]:
            for k in grid["ks"]:
                for a in grid["alphas"]:
                    specs.append({"kind": "alpha", "n1": N1, "n2": N2, "r": R, "m": m, "k": k, "alpha": a,
                                  "eta": ETA, "steps": grid["steps"], "seed": s})
        for eta in grid["etas"]:  # fixed time horizon: steps = horizon / eta
            specs.append({"kind": "eta", "n1": N1, "n2": N2, "r": R, "m": ETA_SWEEP["m"], "k": ETA_SWEEP["k"],
                          "alpha": ETA_SWEEP["alpha"], "eta": eta, "steps": round(grid["horizon"] / eta),
                          "seed": s})
    return specs


def run_grid(specs, out_dir, *, jobs: int = 1, log=print, dask=None, progress: bool = False):
    """Run the specs (dicts) on the sweep engine; returns the rows (None where skipped) and keeps the
    outcome in ``run_grid.last``."""
    outcome = sweep.run_sweep(SWEEP, [_spec(s) for s in specs], out_dir, jobs=jobs, dask=dask, progress=progress,
                              log=log)
    run_grid.last = outcome
    return outcome.rows


def _ok(row) -> bool:
    return row is not None and row["status"] in ("max_steps", "converged") and row["final_rel_error"] not in ("", None)


def fit_slopes(rows: list[dict]) -> list[dict]:
    """Log-log slopes: final error and ||D_T|| in alpha (alpha <= 0.1) per (m, k, seed); accumulated in eta."""
    from dmf_verify.numerics.asymmetric import loglog_slope

    out = []
    groups: dict = {}
    for row in rows:
        if _ok(row) and row["kind"] == "alpha":
            groups.setdefault((row["m"], row["k"], row["seed"]), []).append(row)
    for (m, k, seed), rs in sorted(groups.items()):
        small = [r for r in rs if float(r["alpha"]) <= 0.1]
        lazy = [r for r in rs if float(r["alpha"]) >= 1.0]
        if len(small) >= 2:
            al = [float(r["alpha"]) for r in small]
            out.append({"quantity": "final_rel_error vs alpha (alpha <= 0.1)", "m": m, "k": k, "seed": seed,
                        "slope": loglog_slope(al, [float(r["final_rel_error"]) for r in small]),
                        "identifiable_by_rank": k * (N1 + N2 - k) <= m,
                        "error_at_smallest_alpha": float(min(small, key=lambda r: float(r["alpha"]))["final_rel_error"]),
                        "lazy_error_alpha_1": float(lazy[0]["final_rel_error"]) if lazy else ""})
        big = [r for r in rs if float(r["alpha"]) >= 0.1]
        if len(big) >= 2:
            out.append({"quantity": "imbalance_T vs alpha (alpha >= 0.1)", "m": m, "k": k, "seed": seed,
                        "slope": loglog_slope([float(r["alpha"]) for r in big], [float(r["imbalance_T"]) for r in big])})
    eta_rows: dict = {}
    for row in rows:
        if _ok(row) and row["kind"] == "eta":
            eta_rows.setdefault(row["seed"], []).append(row)
    for seed, rs in sorted(eta_rows.items()):
        if len(rs) >= 2:
            out.append({"quantity": "accumulated imbalance vs eta (fixed horizon)", "m": rs[0]["m"], "k": rs[0]["k"],
                        "seed": seed, "slope": loglog_slope([float(r["eta"]) for r in rs],
                                                            [float(r["accumulated"]) for r in rs])})
    return out


def write_csv(rows, path, fields=None) -> None:
    fields = fields or sorted({k for r in rows for k in r})
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def plot(specs, rows, out_dir, grid) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out = Path(out_dir)
    paths = []
    seed0 = specs[0]["seed"]
    m_show = 210 if 210 in grid["ms"] else grid["ms"][-1]
    k_show = max(grid["ks"])
    sel = [(s, r) for s, r in zip(specs, rows) if s["kind"] == "alpha" and s["m"] == m_show and s["k"] == k_show
           and s["seed"] == seed0 and _ok(r)]
    for name, field, ylabel in (("soltanolkotabi_error_vs_iteration.png", "rel_error", "||UV^T - X*||_F / ||X*||_F"),
                                ("soltanolkotabi_imbalance_vs_iteration.png", "imbalance", "||U^T U - V^T V||_F")):
        fig, ax = plt.subplots(figsize=(6, 4))
        for s, _r in sel:
            h = load_history(out, s)
            ax.semilogy(h["step"], np.maximum(h[field], 1e-300), label=f"alpha={s['alpha']:g}")
        ax.set_xlabel("iteration")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{N1}x{N2}, r={R}, m={m_show}, k={k_show}, eta={ETA}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
        paths.append(out / name)
    fig, ax = plt.subplots(figsize=(6, 4))
    styles = ["-", "--", ":", "-."]
    for i, m in enumerate(grid["ms"]):
        for j, k in enumerate(grid["ks"]):
            pts = sorted((float(s["alpha"]), float(r["final_rel_error"])) for s, r in zip(specs, rows)
                         if s["kind"] == "alpha" and s["m"] == m and s["k"] == k and s["seed"] == seed0 and _ok(r))
            if pts:
                ax.loglog(*zip(*pts), marker="o", linestyle=styles[j % len(styles)], color=f"C{i % 10}",
                          label=f"m={m}, k={k}")
    ax.set_xlabel("alpha (initialization scale)")
    ax.set_ylabel(f"relative error after {grid['steps']} steps")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "soltanolkotabi_final_error_vs_alpha.png", dpi=120)
    plt.close(fig)
    paths.append(out / "soltanolkotabi_final_error_vs_alpha.png")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    pts = sorted((float(s["alpha"]), float(r["imbalance_T"])) for s, r in zip(specs, rows)
                 if s["kind"] == "alpha" and s["m"] == m_show and s["k"] == k_show and s["seed"] == seed0 and _ok(r))
    if pts:
        a1.loglog(*zip(*pts), "o-")
    a1.set_xlabel("alpha")
    a1.set_ylabel("||D_T||_F")
    a1.set_title("final imbalance vs alpha")
    pts = sorted((float(s["eta"]), float(r["accumulated"])) for s, r in zip(specs, rows)
                 if s["kind"] == "eta" and s["seed"] == seed0 and _ok(r))
    if pts:
        a2.loglog(*zip(*pts), "o-")
    a2.set_xlabel("eta (fixed horizon t = eta T)")
    a2.set_ylabel("accumulated eta^2 terms (Frobenius)")
    a2.set_title("accumulated imbalance vs eta")
    fig.tight_layout()
    fig.savefig(out / "soltanolkotabi_imbalance_scaling.png", dpi=120)
    plt.close(fig)
    paths.append(out / "soltanolkotabi_imbalance_scaling.png")
    return paths


def configure(parser: argparse.ArgumentParser) -> None:
    sweep.add_sweep_options(parser, default_out="out/soltanolkotabi")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (default 1)")


def run(args: argparse.Namespace) -> int:
    from dmf_verify.errors import InvalidArgument

    grid = dict(QUICK if args.quick else FULL)
    if args.seeds is not None:
        if args.seeds < 1:
            raise InvalidArgument(f"--seeds must be >= 1, got {args.seeds}")
        grid["seeds"] = args.seeds
    if args.seed < 0:
        raise InvalidArgument(f"--seed must be >= 0, got {args.seed}")
    out = sweep.prepare_out(args.out)
    specs = build_specs(grid, args.seed)
    rows = run_grid(specs, out, jobs=args.jobs, dask=args.dask, progress=not args.no_progress,
                    log=lambda s: print(s, file=sys.stderr, flush=True))
    outcome = run_grid.last
    path = sweep.write_csv(out, "soltanolkotabi", FIELDS, rows)
    done = [r for r in rows if r is not None]
    slopes = fit_slopes(done)
    sweep.write_csv(out, "soltanolkotabi_slopes", ["quantity", "m", "k", "seed", "slope", "identifiable_by_rank",
                                                   "error_at_smallest_alpha", "lazy_error_alpha_1"], slopes)
    for s in slopes:
        extra = f"  error(alpha_min)={s['error_at_smallest_alpha']:.2e} lazy={s['lazy_error_alpha_1']}" \
            if "error_at_smallest_alpha" in s else ""
        print(f"{s['quantity']:<48} m={s['m']:<4} k={s['k']:<3} seed={s['seed']}  slope={s['slope']:+.3f}{extra}")
    if not args.no_plot and not outcome.interrupted:
        pairs = [(s, r) for s, r in zip(specs, rows) if r is not None]
        for p in plot([s for s, _ in pairs], [r for _, r in pairs], out, grid):
            print(f"wrote {p}")
    return sweep.report("soltanolkotabi", outcome, path)


EXPERIMENT = Experiment(
    name="soltanolkotabi",
    help="asymmetric sensing X = UV^T (Soltanolkotabi et al. 2023): error/imbalance vs alpha, k, m, eta",
    configure=configure,
    run=run,
)
