"""Benchmark: time to train loss <= 1e-6 on the Figure 1 protocol (completion, n=100, rank 5, m=2000).

For each depth and method it reports iterations, gradient evaluations, seconds, the train loss
and the test MSE reached, and the speed-up over the protocol's per-step loop measured in the
same run. Methods:

* ``baseline``: a clean per-step loop of the public code's GroupRMSprop update, the factor
  gradients formed from prefix/suffix products (``dmf_verify.numerics.model.factor_gradients_from``);
* ``adaptive``: the same update with ``dmf_verify.numerics.training`` (3(N-1) products per step);
* ``adaptive32``: the same in float32;
* ``flow``: the gradient flow, Dormand-Prince then Runge-Kutta-Chebyshev (``rtol`` 1e-3);
* ``flow32``: the same in float32;
* ``gd``: plain GD with a fixed step (``--gd-lr``), capped by ``--time-limit``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_figure1.py [--depths 2 3 4] [--seeds 0]
        [--methods baseline adaptive flow ...] [--json out.json]

Run it with one BLAS thread on a quiet machine; timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from dmf_verify.numerics.model import factor_gradients_from  # noqa: E402
from dmf_verify.numerics.training import completion_problem, init_factors, train  # noqa: E402

METHODS = ("baseline", "adaptive", "adaptive32", "flow", "flow32", "gd")


def baseline_loop(problem, factors, *, lr=1e-3, rho=0.99, eps=1e-4, tol=1e-6, max_iter=1_000_000,
                  time_limit=None):
    """The protocol's per-step loop written plainly (one update per iteration)."""
    loss = problem.loss
    rows, cols, y = loss.rows, loss.cols, loss.values
    m = y.size
    fs = [f.copy() for f in factors]
    v = 0.0
    it = 0
    start = time.perf_counter()
    while True:
        w = fs[0]
        for f in fs[1:]:
            w = f @ w
        r = w[rows, cols] - y
        value = float(r @ r) / m
        if value <= tol or it >= max_iter or not math.isfinite(value):
            break
        if time_limit is not None and time.perf_counter() - start > time_limit:
            break
        g = np.zeros_like(w)
        g[rows, cols] = 2.0 * r / m
        grads = factor_gradients_from(fs, g)
        it += 1
        v = rho * v + (1 - rho) * sum(float(np.sum(gj * gj)) for gj in grads)
        eta = lr / (math.sqrt(v / (1 - rho ** it)) + eps)
        fs = [f - eta * gj for f, gj in zip(fs, grads)]
    status = "converged" if value <= tol else ("diverged" if not math.isfinite(value) else "stopped")
    return status, w, it, it + 1, value, time.perf_counter() - start


def run(method, problem, depth, seed, args):
    fs = init_factors(problem.n, depth, 1e-3, seed=seed)
    if method == "baseline":
        status, w, it, nfev, value, secs = baseline_loop(problem, fs, time_limit=args.time_limit)
    else:
        opt = {"adaptive": "adaptive", "adaptive32": "adaptive", "flow": "flow", "flow32": "flow", "gd": "gd"}[method]
        dtype = np.float32 if method.endswith("32") else np.float64
        lr = {"adaptive": 1e-3, "flow": 1.0, "gd": args.gd_lr}[opt]
        r = train(problem, fs, optimizer=opt, lr=lr, dtype=dtype, rtol=args.rtol, time_limit=args.time_limit)
        status, w, it, nfev, value, secs = r.status, r.product, r.iterations, r.nfev, r.loss, r.seconds
    return {"depth": depth, "seed": seed, "method": method, "status": status, "iterations": it, "nfev": nfev,
            "seconds": secs, "train_loss": value, "test_mse": problem.test_mse(w)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--depths", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--methods", nargs="+", default=["baseline", "adaptive", "adaptive32", "flow", "flow32"],
                   choices=METHODS)
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--rank", type=int, default=5)
    p.add_argument("--m", type=int, default=2000)
    p.add_argument("--rtol", type=float, default=1e-3)
    p.add_argument("--gd-lr", type=float, default=2.0)
    p.add_argument("--time-limit", type=float, default=600.0)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    rows = []
    print(f"# completion n={args.n} rank={args.rank} m={args.m}, init 1e-3, stop at train MSE <= 1e-6; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print("| depth | seed | method | status | iterations | grad evals | seconds | train MSE | test MSE | speed-up vs baseline |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for seed in args.seeds:
        problem = completion_problem(args.n, args.rank, args.m, seed=seed)
        for depth in args.depths:
            base = None
            for method in args.methods:
                r = run(method, problem, depth, seed, args)
                if method == "baseline":
                    base = r["seconds"]
                r["speedup"] = (base / r["seconds"]) if base else None
                rows.append(r)
                sp = f"{r['speedup']:.1f}x" if r["speedup"] else "-"
                print(f"| {depth} | {seed} | {method} | {r['status']} | {r['iterations']} | {r['nfev']} | "
                      f"{r['seconds']:.2f} | {r['train_loss']:.2e} | {r['test_mse']:.3e} | {sp} |", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
