"""Benchmark: dmf_verify.numerics.precise.integrate (GBS extrapolation) vs mpmath.odefun (Taylor series).

For each system odefun runs at mp.dps = digits + 10 and its achieved digits d are measured
against a reference (our integrator at digits + 25, or the Lemma 4 closed form for the scalar
ODE); ours is then asked for max(digits, ceil(d)) digits, so it is timed at >= equal accuracy
(its working precision is that plus 10 guard digits), once with mpmath mpf arithmetic (the
default) and once with arithmetic="gmpy2" (same algorithm, gmpy2 mpfr numbers, same precision).
Prints seconds, achieved digits and the speed-ups over odefun.

    python benchmarks/bench_precise.py                # all systems, 30 digits
    python benchmarks/bench_precise.py --digits 40 --skip-large
    python benchmarks/bench_precise.py --systems scalar pair

Timings are wall-clock on whatever machine runs this (shared machines are noisy: repeat).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mpmath
from mpmath import mp

from dmf_verify.checks.claims.arora2019.eq11 import _pair_rhs
from dmf_verify.numerics import scalar_ode as so
from dmf_verify.numerics.precise import diagonal_flow_rhs, integrate


def _gmpy2_scalar():
    import gmpy2

    def f(t, y):
        e = gmpy2.mpfr(2) / 3
        return [(1 + t / 2) * (y[0] * y[0]) ** e]
    return f


def _gmpy2_pair(n, alpha, g0, g1, w):
    import gmpy2

    def f(t, y):
        al, a0, a1, om = (gmpy2.mpfr(v) for v in (alpha, g0, g1, w))
        e = 1 - gmpy2.mpfr(1) / n
        P = -(a0 + a1 * gmpy2.cos(om * t))
        return [-n * (y[0] * y[0]) ** e * al * P, -n * (y[1] * y[1]) ** e * P]
    return f


def gmpy2_systems():
    """The same right-hand sides written with gmpy2 mpfr functions (for arithmetic="gmpy2")."""
    diag_k = 10
    tgt = [f"{0.5 + 0.15 * i:.2f}" for i in range(diag_k)]
    return {"scalar": _gmpy2_scalar(), "pair": _gmpy2_pair(4, "0.6", "0.8", "0.2", "2"),
            "diag6": diagonal_flow_rhs(3, tgt[:2], backend="gmpy2"), "diag30": diagonal_flow_rhs(3, tgt, backend="gmpy2")}


def systems():
    g = so.affine("1", "0.5")
    diag_k = 10
    tgt = [f"{0.5 + 0.15 * i:.2f}" for i in range(diag_k)]
    w0 = [f"{0.3 + 0.01 * ((7 * j) % 13):.2f}" for j in range(3 * diag_k)]
    return {
        # name: (rhs, y0, t_end, closed form or None)
        "scalar": ("Lemma 4 scalar ODE, N=3, g = 1 + t/2, x0 = 0.6 (1 unknown)", so.rhs_mp(3, g), ["0.6"], "1",
                   lambda t: so.solution_mp(t, "0.6", 3, g, dps=mp.dps)),
        "pair": ("eq. 10 pair (sigma_r, sigma_r'), N=4, alpha = 0.6 (2 unknowns)", _pair_rhs(4, "0.6", "0.8", "0.2", "2"),
                 ["0.5", "0.7"], "0.5", None),
        "diag6": ("diagonal deep flow, N=3, 2 entries (6 unknowns)", diagonal_flow_rhs(3, tgt[:2]), w0[:6], "1", None),
        "diag30": ("diagonal deep flow, N=3, 10 entries (30 unknowns)", diagonal_flow_rhs(3, tgt), w0, "1", None),
    }


def digits_of(y, ref) -> float:
    with mp.workdps(200):  # compare at far more digits than any solution carries
        worst = max(abs(mpmath.mpf(a) - b) / abs(b) for a, b in zip(y, ref))
    return math.inf if worst == 0 else float(-mpmath.log10(worst))


def run_odefun(rhs, y0, t_end, dps):
    with mp.workdps(dps):
        y0m = [mpmath.mpf(v) for v in y0]
        scalar = len(y0m) == 1
        F = (lambda t, y: rhs(t, [y])[0]) if scalar else (lambda t, y: rhs(t, list(y)))
        t0 = time.perf_counter()
        sol = mpmath.odefun(F, 0, y0m[0] if scalar else y0m)
        y = sol(mpmath.mpf(t_end))
        dt = time.perf_counter() - t0
        return ([+y] if scalar else [+v for v in y]), dt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--digits", type=int, default=30, help="requested digits for ours (working dps = digits + 10)")
    ap.add_argument("--systems", nargs="*", default=None, help="subset of: scalar pair diag6 diag30")
    ap.add_argument("--skip-large", action="store_true", help="skip the 30-unknown system (odefun takes ~0.5 min+)")
    ap.add_argument("--repeat", type=int, default=1, help="repeat our solve and keep the best time")
    args = ap.parse_args(argv)
    dps = args.digits + 10
    print(f"mpmath {mpmath.__version__}, backend {mpmath.libmp.BACKEND}; odefun at mp.dps = {dps}; ours asked for "
          f"the digits odefun reached (working dps = that + 10)")
    print(f"{'system':<58} {'mpmath':>7} {'digits':>6} {'gmpy2':>7} {'digits':>6} {'odefun':>8} {'digits':>6} "
          f"{'x(mpm)':>8} {'x(gmpy2)':>8}")
    ok_m = ok_g = True
    for key, (name, rhs, y0, t_end, closed) in systems().items():
        if args.systems and key not in args.systems:
            continue
        if args.skip_large and key == "diag30":
            continue
        with mp.workdps(dps + 30):
            if closed is not None:
                ref = [closed(mpmath.mpf(t_end))]
            else:
                ref = integrate(rhs, y0, [t_end], digits=args.digits + 25).y[-1]
        theirs, t_ode = run_odefun(rhs, y0, t_end, dps)
        d_ode = digits_of(theirs, ref)
        # equal digits: ask ours for at least the digits odefun achieved at this working precision
        want = max(args.digits, math.ceil(d_ode))
        best = math.inf
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            ours = integrate(rhs, y0, [t_end], digits=want).y[-1]
            best = min(best, time.perf_counter() - t0)
        d_ours = digits_of(ours, ref)
        best2 = math.inf
        frhs = gmpy2_systems()[key]
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            ours2 = integrate(frhs, y0, [t_end], digits=want, arithmetic="gmpy2").y[-1]
            best2 = min(best2, time.perf_counter() - t0)
        d_ours2 = digits_of(ours2, ref)
        print(f"{name:<58} {best:7.3f} {d_ours:6.1f} {best2:7.3f} {d_ours2:6.1f} {t_ode:8.3f} {d_ode:6.1f} "
              f"{t_ode / best:7.1f}x {t_ode / best2:7.1f}x", flush=True)
        ok_m &= t_ode / best >= 10 and d_ours >= d_ode - 0.5
        ok_g &= t_ode / best2 >= 10 and d_ours2 >= d_ode - 0.5
    print("target >= 10x faster at >= equal digits: mpmath arithmetic", "met" if ok_m else "NOT met on every system",
          "| gmpy2 arithmetic", "met" if ok_g else "NOT met on every system")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
