"""``dmf-verify experiment dynamics``: P1 Figure 13 (completion) and Figure 6 (sensing).

Gradient descent on deep matrix factorizations of depths 1..4 from a small *balanced* init:
records the top singular values of the product matrix and the alignment
|<grad l(W), u_r v_{r'}^T>| (r != r') along the run, writes a CSV and PNG plots shaped like
the paper's, and quantifies "sharper with depth": for each of the top ``rank`` singular values
sharpness = (iterations from 10% to 90% of its final value) / (iterations to reach 10%),
interpolated linearly between recorded iterations.

Learning rates: one per depth, chosen so that the scalar model of Theorem 3 for the smallest
of the top ``rank`` ground-truth singular values, sigma' = kappa N sigma^(2-2/N) (sigma* - sigma) (kappa the mean
curvature of the loss), reaches 90% of sigma* at ``--fill`` (default 50%) of the run. Time
rescaling does not change the sharpness ratio, so every depth is shown on its own natural
time scale (``--lr`` overrides this with one learning rate for every depth).

Module import is cheap (numpy only); matplotlib and tqdm are imported inside functions. One run per
depth on the sweep engine (:mod:`~dmf_verify.checks.experiments.sweep`: cached in ``--out``/runs,
``--jobs N`` worker processes with one BLAS thread each, ``--dask``). Paper size by default
(100 x 100, rank 5, m = 2000, both tasks), ``--quick`` for CI (20 x 20, rank 2, m = 150, 300 steps).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from dmf_verify.checks.experiments import Experiment, sweep

DEFAULTS = {  # the paper's sizes (Figures 13 and 6: 100 x 100, rank 5)
    "completion": {"size": 100, "rank": 5, "m": 2000},
    "sensing": {"size": 100, "rank": 5, "m": 2000},
}
QUICK = {"size": 20, "rank": 2, "m": 150, "steps": 300}
CLAIM_SIZE = {"size": 30, "rank": 2, "m": 300, "steps": 400, "fill": 0.3}  # the reduced size of arora2019.fig13.sharpening


class _ResidualCache:
    """Wraps a loss so value(W) and gradient(W) of the same W object share one residual.

    gradient_descent evaluates value(W) after each update and gradient(W) at the next step on
    the same matrix; for sensing the residual is the expensive part (an m x dd' mat-vec).
    """

    def __init__(self, loss):
        self.loss = loss
        self.shape = loss.shape
        self._w = None
        self._r = None

    def _residual(self, w):
        # compare contents, not identity: at depth 1 the product *is* the factor, updated in place
        if self._w is None or not np.array_equal(w, self._w):
            self._w, self._r = np.array(w, copy=True), self.loss.residual(w)
        return self._r

    def value(self, w):
        r = self._residual(w)
        return float(self.loss.weight * (r @ r))

    def gradient(self, w):
        r = self._residual(w)
        if hasattr(self.loss, "_gradient"):  # SensingLoss: its own formula on the cached residual
            return self.loss._gradient(r)
        return self.loss.gradient(w)


@dataclass
class DynamicsRun:
    """One GD run: recorded iterations, top singular values, alignments, sharpness per sigma."""

    task: str
    depth: int
    lr: float
    steps: np.ndarray
    loss: np.ndarray
    sigmas: np.ndarray            # (records, top)
    alignment: np.ndarray         # (records,) max_{r != r' <= rank} |<G, u_r v_r'^T>|
    pair_alignment: np.ndarray    # (records, n_pairs) for the pairs among the top 3
    pairs: list
    sharpness: np.ndarray         # (rank,)
    t10: np.ndarray
    t90: np.ndarray
    final: np.ndarray
    seconds: float
    converged: bool
    meta: dict = field(default_factory=dict)


def make_problem(task: str, size: int, rank: int, m: int, seed: int):
    """Ground truth (size x size, rank ``rank``, ||W*||_F = size) and its loss.

    completion: mean over observed entries, no 1/2 (the public code of P1);
    sensing: 1/2 sum_i (<A_i, W> - y_i)^2 with A_i i.i.d. N(0, 1/m) entries (so E[A^T A] = I).
    Returns (loss, ground_truth, kappa, lipschitz) with kappa the mean curvature per entry.
    """
    from dmf_verify.numerics.losses import SensingLoss, random_completion

    rng = np.random.default_rng(seed)
    gt = rng.standard_normal((size, rank)) @ rng.standard_normal((rank, size))
    gt *= size / np.linalg.norm(gt)
    if task == "completion":
        loss = random_completion(gt, m, seed=seed + 1)
        kappa = 2.0 / (size * size)           # E[grad] = (2/m) (m / size^2) (W - W*)
        lipschitz = 2.0 / m
    elif task == "sensing":
        a = rng.standard_normal((m, size, size)) / np.sqrt(m)
        loss = SensingLoss(a, a.reshape(m, -1) @ gt.ravel(), reduction="sum", half=True)
        kappa = 1.0
        lipschitz = _top_sq_singular(loss.flat, seed)
    else:
        from dmf_verify.errors import InvalidArgument

        raise InvalidArgument(f"task must be 'completion' or 'sensing', got {task!r}")
    return loss, gt, kappa, lipschitz


def _top_sq_singular(a: np.ndarray, seed: int, iters: int = 60) -> float:
    """||A||_2^2 by power iteration on A^T A (an upper estimate: 1.01 x the converged Rayleigh quotient)."""
    rng = np.random.default_rng(seed + 31)
    v = rng.standard_normal(a.shape[1])
    lam = 0.0
    for _ in range(iters):
        v /= np.linalg.norm(v)
        w = a.T @ (a @ v)
        new = float(v @ w)
        v = w
        if abs(new - lam) <= 1e-6 * new:
            lam = new
            break
        lam = new
    return 1.01 * lam


def scalar_time_to(frac: float, depth: int, sigma_star: float, sigma0: float, kappa: float) -> float:
    """Time for sigma' = kappa N sigma^(2-2/N)(sigma* - sigma) to go from sigma0 to frac*sigma*."""
    from scipy.integrate import quad

    def inv_rate(s):
        return 1.0 / (kappa * depth * s ** (2.0 - 2.0 / depth) * (sigma_star - s))

    lo, hi = np.log(sigma0), np.log(frac * sigma_star)
    val, _ = quad(lambda x: inv_rate(np.exp(x)) * np.exp(x), lo, hi, limit=200)
    return float(val)


def _smallest_curvature(task: str, size: int, m: int, kappa: float) -> float:
    if task == "completion":
        return 2.0 / m
    edge = (np.sqrt(size * size) - np.sqrt(m)) ** 2 / m
    return float(max(edge, 0.05 * kappa))


def initial_product(size: int, init: float, scale: float, seed: int) -> np.ndarray:
    """Gaussian size x size matrix with spectral norm init * scale (drawn from seed + 17)."""
    rng = np.random.default_rng(seed + 17)
    w0 = rng.standard_normal((size, size))
    return w0 * (init * scale / np.linalg.norm(w0, 2))


def auto_lr(depth: int, steps: int, fill: float, w0: np.ndarray, sigma_target: float, kappa: float) -> float:
    """Learning rate at which the scalar model of Theorem 3 takes sigma from the median singular
    value of W(0) to 90% of ``sigma_target`` in ``fill * steps`` iterations."""
    sigma0 = float(np.median(np.linalg.svd(w0, compute_uv=False)))
    return scalar_time_to(0.9, depth, sigma_target, sigma0, kappa) / (fill * steps)


def depth_lr(task: str, depth: int, *, size: int, rank: int, m: int, steps: int, seed: int,
             init: float = 1e-3, fill: float = 0.5) -> float:
    """The default learning rate of depth ``depth`` (module docstring).

    Depth 1 has no low-rank bias: every mode of the loss must converge, so its scalar model uses
    the smallest non-zero curvature (completion: 2/m per observed entry; sensing: the
    Marchenko-Pastur lower edge (sqrt(dd') - sqrt(m))^2 / m of A^T A) instead of the mean,
    capped at 1/L (L the Lipschitz constant of the gradient) for stability.
    """
    _loss, gt, kappa, lipschitz = make_problem(task, size, rank, m, seed)
    s_star = np.linalg.svd(gt, compute_uv=False)
    w0 = initial_product(size, init, float(s_star[0]), seed)
    if depth > 1:
        return auto_lr(depth, steps, fill, w0, float(s_star[rank - 1]), kappa)
    lr = auto_lr(1, steps, fill, w0, float(s_star[rank - 1]), _smallest_curvature(task, size, m, kappa))
    return min(lr, 1.0 / lipschitz)  # depth-1 GD is stable for lr < 2 / L


def crossing_times(steps: np.ndarray, values: np.ndarray, level: float) -> float:
    """First (linearly interpolated) iteration at which ``values`` reaches ``level``; nan if never."""
    idx = np.nonzero(values >= level)[0]
    if idx.size == 0:
        return float("nan")
    i = int(idx[0])
    if i == 0:
        return float(steps[0])
    x0, x1, y0, y1 = steps[i - 1], steps[i], values[i - 1], values[i]
    return float(x0 + (level - y0) * (x1 - x0) / (y1 - y0))


def sharpness(steps: np.ndarray, sigmas: np.ndarray, rank: int):
    """(t90 - t10) / t10 per singular value r < rank, relative to the value at the last record."""
    final = sigmas[-1, :rank]
    t10 = np.array([crossing_times(steps, sigmas[:, r], 0.1 * final[r]) for r in range(rank)])
    t90 = np.array([crossing_times(steps, sigmas[:, r], 0.9 * final[r]) for r in range(rank)])
    with np.errstate(divide="ignore", invalid="ignore"):
        sh = (t90 - t10) / t10
    return sh, t10, t90, final


def run_depth(task: str, depth: int, *, size: int, rank: int, m: int, steps: int, seed: int,
              init: float = 1e-3, lr: float | None = None, fill: float = 0.5, record_every: int = 0,
              top: int = 10, progress: bool = False) -> DynamicsRun:
    """GD on a depth-``depth`` factorization (all widths ``size``) from a small balanced init.

    ``init``: spectral norm of the initial product relative to ||W*||_2. ``lr=None`` picks the
    depth's learning rate from the scalar model (module docstring).
    """
    from dmf_verify.errors import InvalidArgument
    from dmf_verify.numerics.descent import gradient_descent
    from dmf_verify.numerics.model import balanced_factors
    from dmf_verify.numerics.validation import check_depth, check_positive, check_seed

    check_depth(depth)
    check_seed(seed)
    check_positive(init, "init")
    if not (isinstance(steps, (int, np.integer)) and steps >= 10):
        raise InvalidArgument(f"steps must be an integer >= 10, got {steps!r}")
    if not 0 < fill < 1:
        raise InvalidArgument(f"fill must lie in (0, 1), got {fill}")
    loss, gt, kappa, lipschitz = make_problem(task, size, rank, m, seed)
    s_star = np.linalg.svd(gt, compute_uv=False)
    w0 = initial_product(size, init, float(s_star[0]), seed)
    if lr is None:
        lr = depth_lr(task, depth, size=size, rank=rank, m=m, steps=steps, seed=seed, init=init, fill=fill)
    lr = check_positive(lr, "lr")
    fs = balanced_factors(w0, depth, seed=seed + 23)
    record_every = record_every or max(1, steps // 400)
    top = min(top, size)
    k3 = min(3, rank)
    pairs = [(r, q) for r in range(k3) for q in range(k3) if r != q]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc=f"{task} N={depth}", unit="it", leave=False, file=sys.stderr)

    def observe(_fs, w):
        u, s, vt = np.linalg.svd(w)
        gh = u[:, :rank].T @ loss.gradient(w) @ vt[:rank].T
        off = np.abs(gh - np.diag(np.diag(gh)))
        if bar is not None:
            bar.update(record_every if bar.n + record_every <= steps else steps - bar.n)
        return {"sigmas": s[:top], "alignment": float(off.max()) if rank > 1 else 0.0,
                "pairs": np.array([abs(gh[r, q]) for r, q in pairs])}

    start = time.perf_counter()
    res = gradient_descent(_ResidualCache(loss) if task == "sensing" else loss, fs, step=lr, steps=steps, record_every=record_every, observe=observe)
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    hist = res.history
    sig = np.asarray(hist["sigmas"])
    sh, t10, t90, final = sharpness(hist["step"], sig, rank)
    tail = sig[int(0.9 * len(sig)):, :rank]
    converged = bool(np.max(np.abs(tail[-1] - tail[0]) / tail[-1]) < 0.02)
    return DynamicsRun(task, depth, float(lr), np.asarray(hist["step"]), np.asarray(hist["loss"]), sig,
                       np.asarray(hist["alignment"]), np.asarray(hist["pairs"]), pairs, sh, t10, t90, final,
                       seconds, converged,
                       {"size": size, "rank": rank, "m": m, "steps": steps, "seed": seed, "init": init,
                        "fill": fill, "record_every": record_every, "sigma_star": s_star[:rank].tolist(),
                        "lipschitz": lipschitz, "kappa": kappa, "dtype": "float64"})


@dataclass(frozen=True)
class DynamicsSpec:
    """One GD run of the dynamics figures (``lr = 0``: the depth's own learning rate)."""

    task: str
    depth: int
    size: int
    rank: int
    m: int
    steps: int
    seed: int
    init: float = 1e-3
    lr: float = 0.0
    fill: float = 0.5


_ARRAYS = ("steps", "loss", "sigmas", "alignment", "pair_alignment", "sharpness", "t10", "t90", "final")
FIELDS = ("task", "depth", "size", "rank", "m", "steps", "seed", "init", "lr", "fill", "lr_used", "sharpness_mean",
          "settled", "status", "message", "seconds", "key")


def _run_spec(spec: DynamicsSpec):
    run = run_depth(spec.task, spec.depth, size=spec.size, rank=spec.rank, m=spec.m, steps=spec.steps, seed=spec.seed,
                    init=spec.init, lr=spec.lr or None, fill=spec.fill)
    arrays = {name: np.asarray(getattr(run, name)) for name in _ARRAYS}
    arrays["pairs"] = np.asarray(run.pairs, dtype=np.int64).reshape(-1, 2)
    finite = bool(np.all(np.isfinite(run.loss)))
    row = {"lr_used": run.lr, "sharpness_mean": float(np.nanmean(run.sharpness)) if finite else "",
           "settled": run.converged, "status": "done" if finite else "diverged",
           "message": json.dumps(run.meta)}
    return row, arrays


SWEEP = sweep.Sweep("dynamics", DynamicsSpec, 1, FIELDS, _run_spec, ok=("done",),
                    label=lambda s: f"{s.task} depth {s.depth} ({s.size}x{s.size}, {s.steps} steps)", module=__name__)
SWEEPS = {"dynamics": SWEEP}


def load_run(out_dir, spec: DynamicsSpec, row: dict) -> DynamicsRun:
    """The cached run of ``spec`` as a :class:`DynamicsRun`."""
    z = sweep.load_arrays(out_dir, sweep.run_key(SWEEP, spec))
    meta = json.loads(row.get("message") or "{}")
    return DynamicsRun(spec.task, spec.depth, float(row["lr_used"]), z["steps"], z["loss"], z["sigmas"], z["alignment"],
                       z["pair_alignment"], [tuple(int(x) for x in p) for p in z["pairs"]], z["sharpness"], z["t10"],
                       z["t90"], z["final"], float(row["seconds"]), bool(row["settled"]), meta)


def run_all(task: str, depths, *, jobs: int = 1, out_dir=None, progress: bool = False, **kwargs) -> list[DynamicsRun]:
    """Run every depth through the sweep engine (cached in ``out_dir/runs`` when given)."""
    import tempfile

    kwargs.pop("record_every", None)
    lr = kwargs.pop("lr", None) or 0.0
    specs = [DynamicsSpec(task=task, depth=int(n), lr=lr, **kwargs) for n in depths]
    with tempfile.TemporaryDirectory(prefix="dmf-dyn-") as tmp:
        where = out_dir or tmp
        outcome = sweep.run_sweep(SWEEP, specs, where, jobs=max(1, jobs), progress=progress)
        if outcome.interrupted:
            raise KeyboardInterrupt
        return [load_run(where, s, r) for s, r in zip(specs, outcome.rows) if r is not None and r["status"] == "done"]


def write_csv(runs: list[DynamicsRun], path: str) -> None:
    top = runs[0].sigmas.shape[1]
    npairs = len(runs[0].pairs)
    head = ["task", "depth", "lr", "step", "loss"] + [f"sigma_{r + 1}" for r in range(top)] + ["alignment_max"]
    head += [f"align_{r + 1}_{q + 1}" for r, q in runs[0].pairs]
    with open(path, "w") as fh:
        fh.write(",".join(head) + "\n")
        for run in runs:
            for i, st in enumerate(run.steps):
                row = [run.task, str(run.depth), f"{run.lr:.6g}", str(int(st)), f"{run.loss[i]:.10g}"]
                row += [f"{x:.10g}" for x in run.sigmas[i]] + [f"{run.alignment[i]:.6g}"]
                row += [f"{x:.6g}" for x in run.pair_alignment[i][:npairs]]
                fh.write(",".join(row) + "\n")


def write_summary(runs: list[DynamicsRun], path: str) -> None:
    with open(path, "w") as fh:
        fh.write("task,depth,lr,sigma_index,final,t10,t90,sharpness,converged,seconds\n")
        for run in runs:
            fh.writelines(f"{run.task},{run.depth},{run.lr:.6g},{r + 1},{run.final[r]:.8g},{run.t10[r]:.6g},"
                          f"{run.t90[r]:.6g},{run.sharpness[r]:.6g},{run.converged},{run.seconds:.2f}\n"
                          for r in range(run.sharpness.size))


def plot(runs: list[DynamicsRun], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(runs)
    fig, axes = plt.subplots(2, n, figsize=(3.4 * n, 6.0), squeeze=False)
    for j, run in enumerate(runs):
        ax = axes[0, j]
        rank = run.sharpness.size
        for r in range(run.sigmas.shape[1]):
            ax.plot(run.steps, run.sigmas[:, r], lw=1.4 if r < rank else 0.8,
                    alpha=1.0 if r < rank else 0.5)
        ax.set_title(f"depth {run.depth}  (lr {run.lr:.3g})", fontsize=9)
        ax.set_xlabel("iteration")
        if j == 0:
            ax.set_ylabel("singular values")
        ax.text(0.02, 0.97, f"sharpness {np.nanmean(run.sharpness):.3g}", transform=ax.transAxes,
                va="top", fontsize=8)
        ax = axes[1, j]
        for p, (r, q) in enumerate(run.pairs):
            ax.semilogy(run.steps, np.maximum(run.pair_alignment[:, p], 1e-300), lw=1.0,
                        label=f"|<G, u{r + 1} v{q + 1}^T>|")
        ax.set_xlabel("iteration")
        if j == 0:
            ax.set_ylabel("off-diagonal alignment")
            ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", choices=["completion", "sensing"], default="completion",
                   help="completion (Figure 13) or sensing (Figure 6)")
    p.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3, 4], metavar="N",
                   help="depths, space-separated (default 1 2 3 4)")
    p.add_argument("--steps", type=int, default=2000, help="GD iterations per depth (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the instance and the initialization (default 0)")
    p.add_argument("--size", type=int, default=None, help="matrix size (default 100, the paper's; --quick 20)")
    p.add_argument("--rank", type=int, default=None, help="ground-truth rank (default 5; --quick 2)")
    p.add_argument("--m", type=int, default=None,
                   help="observed entries or Gaussian measurements (default 2000; --quick 150)")
    p.add_argument("--init", type=float, default=1e-3, help="spectral norm of W(0) relative to ||W*||_2 (default 1e-3)")
    p.add_argument("--lr", type=float, default=None, help="one learning rate for all depths (default: per depth, "
                                                          "from the scalar model; see docs/dynamics.md)")
    p.add_argument("--fill", type=float, default=0.5, help="fraction of the run at which the scalar model "
                                                           "reaches 90%% of sigma_rank* (default 0.5)")
    sweep.add_sweep_options(p, default_out="out/dynamics")


def _run(args: argparse.Namespace) -> int:
    from dmf_verify.errors import InvalidArgument

    depths = list(args.depths)
    if not depths or min(depths) < 1:
        raise InvalidArgument(f"--depths must list integers >= 1, got {depths}")
    if len(set(depths)) != len(depths):
        raise InvalidArgument(f"--depths lists a depth twice: {depths}")
    d = dict(DEFAULTS[args.task])
    steps = args.steps
    if args.quick:
        d.update({k: QUICK[k] for k in ("size", "rank", "m")})
        steps = QUICK["steps"] if args.steps == 2000 else args.steps
    size, rank, m = args.size or d["size"], args.rank or d["rank"], args.m or d["m"]
    for name, v, lo in (("--size", size, 2), ("--rank", rank, 1), ("--m", m, 1), ("--steps", steps, 10),
                        ("--seed", args.seed, 0)):
        if v < lo:
            raise InvalidArgument(f"{name} must be >= {lo}, got {v}")
    if rank > size:
        raise InvalidArgument(f"--rank must be <= --size={size}, got {rank}")
    if args.task == "completion" and m > size * size:
        raise InvalidArgument(f"--m must be <= size^2 = {size * size} for completion, got {m}")
    if not 0 < args.fill < 1:
        raise InvalidArgument(f"--fill must lie in (0, 1), got {args.fill}")
    out = sweep.prepare_out(args.out)
    specs = [DynamicsSpec(args.task, n, size, rank, m, steps, args.seed, args.init, args.lr or 0.0, args.fill)
             for n in depths]
    outcome = sweep.run_sweep(SWEEP, specs, out, jobs=args.jobs, dask=args.dask, progress=not args.no_progress)
    table = sweep.write_csv(out, f"dynamics_{args.task}_runs", FIELDS, outcome.rows)
    runs = [load_run(out, s, r) for s, r in zip(specs, outcome.rows) if r is not None and r["status"] == "done"]
    fig = "figure13" if args.task == "completion" else "figure6"
    if runs:
        csv = os.path.join(out, f"dynamics_{args.task}.csv")
        summ = os.path.join(out, f"dynamics_{args.task}_sharpness.csv")
        write_csv(runs, csv)
        write_summary(runs, summ)
        print(f"{args.task}: {size}x{size} rank {rank}, m = {m}, {steps} steps, seed {args.seed}")
        print(f"{'depth':>5s} {'lr':>10s} {'sharpness (mean)':>17s} {'per sigma':>40s} {'settled':>7s} {'time':>7s}")
        for run in runs:
            per = " ".join(f"{x:.3g}" for x in run.sharpness)
            print(f"{run.depth:5d} {run.lr:10.4g} {np.nanmean(run.sharpness):17.4g} {per:>40s} "
                  f"{'yes' if run.converged else 'NO':>7s} {run.seconds:6.1f}s")
        written = [csv, summ]
        if not args.no_plot:
            png = os.path.join(out, f"{fig}_{args.task}.png")
            plot(runs, png, f"{args.task}: {size}x{size}, rank {rank}, m = {m}, GD from balanced init {args.init:g} "
                            f"(seed {args.seed}); bold: top {rank} singular values")
            written.append(png)
        print("wrote " + ", ".join(str(w) for w in written))
        if not all(r.converged for r in runs):
            print("warning: some runs had not settled (top singular values still moving > 2% over the last 10% "
                  "of the run): increase --steps or --fill", file=sys.stderr)
    return sweep.report(f"dynamics {args.task}", outcome, table)


EXPERIMENT = Experiment(
    name="dynamics",
    help="Figures 13 / 6 of Arora et al. 2019: singular values and alignment along GD, sharpness per depth",
    configure=_configure,
    run=_run,
)
