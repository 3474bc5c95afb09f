"""`dmf-verify experiment chou-intervals`: predicted vs measured early-stopping intervals (Chou et al.).

Given a spectrum (or a random symmetric A with that spectrum), depth N, alpha, eta and target
ranks r, predicts the iteration interval where |erank(W_k) - erank(A_r)| <= delta
(dmf_verify.numerics.chou.early_stopping_interval), runs full-matrix GD from W_j(0) = alpha I, and prints the
predicted inner/outer intervals next to the measured one; writes ``DIR/chou_intervals.csv`` (the
trajectory: k, erank, ||W_k - A||_F, ||W_k - A_r||_F) and ``DIR/chou_intervals.png`` (the
intervals shaded) into ``--out DIR``. Exit status 1 when the containment is violated.
"""

from __future__ import annotations

import argparse

from dmf_verify.checks.experiments import Experiment


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spectrum", type=float, nargs="+", default=[10.0, 8.0, 6.0, 0.1, 0.05],
                   help="eigenvalues of A (>= 0; default 10 8 6 0.1 0.05)")
    p.add_argument("--depth", type=int, default=3, help="N (>= 2, default 3)")
    p.add_argument("--alpha", type=float, default=0.05, help="initial scale W_j(0) = alpha I (default 0.05)")
    p.add_argument("--step", type=float, default=None,
                   help="step size (default: --step-fraction times the bound 1/(N lam_max^(2-2/N)))")
    p.add_argument("--step-fraction", type=float, default=0.5,
                   help="step as a fraction of the bound 1/(N lam_max^(2-2/N)) when --step is not given (default 0.5)")
    p.add_argument("--rank", type=int, nargs="+", default=[3], help="target rank(s) r (default 3)")
    p.add_argument("--delta", type=float, default=0.05, help="erank tolerance delta (default 0.05)")
    p.add_argument("--levels", type=int, default=30, help="enclosure levels per side and eigenvalue (default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random eigenbasis Q (default 0)")
    p.add_argument("--out", default="out/chou-intervals", metavar="DIR",
                   help="output directory for chou_intervals.csv and chou_intervals.png (default out/chou-intervals)")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")


def run_experiment(spectrum, depth, alpha, step, ranks, delta, levels, seed, max_steps=3_000_000):
    """Returns (rows, intervals): per-iteration records and, per rank, predicted and measured intervals."""
    import numpy as np

    from dmf_verify.checks.claims.chou._common import symmetric_with_spectrum
    from dmf_verify.numerics.chou import early_stopping_interval, measured_erank_interval
    from dmf_verify.numerics.descent import gradient_descent
    from dmf_verify.numerics.losses import FrobeniusLoss
    from dmf_verify.numerics.model import scaled_identity_factors
    from dmf_verify.numerics.spectral import effective_rank

    lam = np.sort(np.asarray(spectrum, dtype=float))[::-1]
    a = symmetric_with_spectrum(lam, seed)
    preds = {r: early_stopping_interval(a, depth, alpha=alpha, step=step, rank=r, delta=delta, n_levels=levels)
             for r in ranks}
    ends = [p.outer[1] for p in preds.values() if p.outer is not None]
    steps = int(min(max_steps, 1.5 * max(ends) + 10)) if ends else 20000
    ev, q = np.linalg.eigh(a)
    q = q[:, ::-1]
    projections = {r: (q[:, :r] * lam[:r]) @ q[:, :r].T for r in ranks}
    record_every = max(1, steps // 20000)

    def observe(fs, w):
        out = {"erank": effective_rank(w), "err_A": float(np.linalg.norm(w - a))}
        for r, ar in projections.items():
            out[f"err_A{r}"] = float(np.linalg.norm(w - ar))
        return out

    res = gradient_descent(FrobeniusLoss(a), scaled_identity_factors(len(lam), depth, alpha=alpha), step=step,
                           steps=steps, record_every=record_every, observe=observe)
    h = res.history
    intervals = {}
    for r, p in preds.items():
        k = h["step"]
        run = measured_erank_interval(h["erank"], p.target_erank, delta,
                                      None if p.inner is None else tuple(int(np.searchsorted(k, v)) for v in p.inner))
        measured = None if run is None else (int(k[run[0]]), int(k[run[1]]))
        intervals[r] = {"target_erank": p.target_erank, "inner": p.inner, "outer": p.outer, "measured": measured,
                        "resolution": record_every}
    return h, intervals, preds


def _run(args: argparse.Namespace) -> int:
    import csv
    import math
    import os

    from dmf_verify.checks.experiments.sweep import prepare_out
    from dmf_verify.errors import InvalidArgument
    from dmf_verify.numerics.chou import convergence_step_bound

    for lam in args.spectrum:
        if not math.isfinite(lam) or lam < 0:
            raise InvalidArgument(f"--spectrum values must be finite and >= 0, got {lam}")
    for name, v, lo in (("--depth", args.depth, 2), ("--levels", args.levels, 1), ("--seed", args.seed, 0)):
        if v < lo:
            raise InvalidArgument(f"{name} must be >= {lo}, got {v}")
    for r in args.rank:
        if not 1 <= r <= len(args.spectrum):
            raise InvalidArgument(f"--rank values must be in [1, {len(args.spectrum)}] (the spectrum's length), got {r}")
    for name, v in (("--alpha", args.alpha), ("--delta", args.delta), ("--step-fraction", args.step_fraction)):
        if not (math.isfinite(v) and v > 0):
            raise InvalidArgument(f"{name} must be positive and finite, got {v}")
    if args.step is not None and not (math.isfinite(args.step) and args.step > 0):
        raise InvalidArgument(f"--step must be positive and finite, got {args.step}")
    out_dir = prepare_out(args.out)
    prefix = os.path.join(out_dir, "chou_intervals")
    bound = convergence_step_bound(max(args.spectrum), args.depth)
    step = args.step if args.step is not None else args.step_fraction * bound
    h, intervals, preds = run_experiment(args.spectrum, args.depth, args.alpha, step, args.rank, args.delta,
                                         args.levels, args.seed)
    print(f"spectrum {args.spectrum}, N = {args.depth}, alpha = {args.alpha:g}, step = {step:.6g} "
          f"(bound 1/(N lam_max^(2-2/N)) = {bound:.6g}), delta = {args.delta:g}")
    print(f"{'r':>3} {'erank(A_r)':>10} {'predicted inner (guaranteed)':>30} {'measured':>22} {'predicted outer':>22}")
    ok = True
    for r, iv in intervals.items():
        def fmt(x):
            return "none" if x is None else f"[{x[0]}, {x[1]}]"
        print(f"{r:>3} {iv['target_erank']:>10.4f} {fmt(iv['inner']):>30} {fmt(iv['measured']):>22} {fmt(iv['outer']):>22}")
        if iv["inner"] is not None and iv["measured"] is not None:
            res = iv["resolution"]
            ok &= iv["outer"][0] - res <= iv["measured"][0] <= iv["inner"][0] + res
            ok &= iv["inner"][1] - res <= iv["measured"][1] <= iv["outer"][1] + res
    print("containment inner <= measured <= outer:", "holds" if ok else "VIOLATED")
    keys = ["step", "erank", "err_A"] + [f"err_A{r}" for r in intervals]
    with open(prefix + ".csv", "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["iteration", "erank", "frob_err_A"] + [f"frob_err_A{r}" for r in intervals]
                    + [f"in_predicted_inner_r{r}" for r in intervals])
        for i in range(len(h["step"])):
            k = int(h["step"][i])
            flags = [int(iv["inner"] is not None and iv["inner"][0] <= k <= iv["inner"][1]) for iv in intervals.values()]
            wr.writerow([k] + [f"{float(h[key][i]):.10g}" for key in keys[1:]] + flags)
    print(f"wrote {prefix}.csv")
    if not args.no_plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        k = h["step"]
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
        ax1.plot(k, h["erank"], color="k", lw=1.2, label="erank(W_k)")
        colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
        for j, (r, iv) in enumerate(intervals.items()):
            c = colors[j % len(colors)]
            ax1.axhline(iv["target_erank"], color=c, ls=":", lw=0.8)
            if iv["outer"] is not None:
                ax1.axvspan(max(iv["outer"][0], 1), iv["outer"][1], color=c, alpha=0.10)
            if iv["inner"] is not None:
                ax1.axvspan(max(iv["inner"][0], 1), iv["inner"][1], color=c, alpha=0.25,
                            label=f"r={r}: predicted (inner dark, outer light)")
            ax2.plot(k, h[f"err_A{r}"], color=c, label=f"||W_k - A_{r}||_F")
        ax2.plot(k, h["err_A"], color="k", label="||W_k - A||_F")
        ax1.set_ylabel("effective rank")
        ax1.set_xscale("log")
        ax1.legend(fontsize=8)
        ax2.set_yscale("log")
        ax2.set_xlabel("iteration k")
        ax2.legend(fontsize=8)
        ax1.set_title(f"GD, N={args.depth}, alpha={args.alpha:g}, step={step:.3g}: predicted vs measured intervals")
        fig.tight_layout()
        fig.savefig(prefix + ".png", dpi=120)
        plt.close(fig)
        print(f"wrote {prefix}.png")
    return 0 if ok else 1


EXPERIMENT = Experiment(name="chou-intervals",
                        help="predicted vs measured early-stopping intervals for erank(W_k) ~ erank(A_r) (Chou et al.)",
                        configure=_configure, run=_run)
