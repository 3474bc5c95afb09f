"""Benchmark: time to train MSE <= 1e-6 on the Figure 1 protocol (completion, n=100, rank 5, m=2000),
side by side on the same instances, in one run.

Every method starts from the same instance and initialization: the public code's own streams
(``rng="public"``: its W*, Omega and Gaussian init for the seed), so the public code itself can be
run on exactly the same problem. Methods:

* ``public``: the public code of Arora et al. 2019 (``--public-code DIR``, a checkout of
  github.com/roosephu/deep_matrix_factorization), its unchanged ``main.py`` with GroupRMSprop
  (lr 1e-3, float32, torch), run through ``benchmarks/_public_harness.py`` on instance files
  written from ours; wall time of its training (imports excluded) and of the whole process;
* ``clean``: a clean per-step numpy loop of the same GroupRMSprop update written plainly here
  (prefix products forward, then backpropagation: 3(N-1) matrix products per step);
* ``adaptive``: the same update by ``dmf_verify.numerics.training`` (float64);
* ``flow64`` / ``flow32``: the gradient flow (DOPRI5, then second-order RKC; ``--rtol``),
  float64 / float32;
* ``torchflow``: the flow on the torch backend (CPU here; cuda when present and ``--device cuda``).

Printed: one line per run (iterations, gradient evaluations, wall and CPU seconds, train and test
MSE, the test MSE relative to the paired GroupRMSprop runs, the speed-ups), then the summary per
depth; ``--scaling`` adds the n-scaling table of the flow (depth 3), ``--grid`` times the default
``figure1`` grid with ``--jobs 2``. Everything needed to judge the numbers (load average, CPU,
threads, versions) is printed first: run it on a quiet machine with one BLAS thread::

    OMP_NUM_THREADS=1 python benchmarks/bench_figure1.py --public-code PATH --depths 2 3 4 5 6 --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from dmf_verify.numerics.training import completion_problem, init_factors, train  # noqa: E402

METHODS = ("public", "clean", "adaptive", "flow64", "flow32", "torchflow")
HERE = Path(__file__).resolve().parent


def environment() -> str:
    lines = [f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {platform.node()} {platform.platform()}"]
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    lines.append(f"# cpu: {cpu}; cores: {os.cpu_count()}; load average: {os.getloadavg()}")
    import scipy

    vers = f"numpy {np.__version__}, scipy {scipy.__version__}"
    try:
        import torch

        vers += f", torch {torch.__version__} (threads {torch.get_num_threads()}, cuda {torch.cuda.is_available()})"
    except ImportError:
        vers += ", torch not installed"
    lines.append(f"# {vers}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')} "
                 f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    return "\n".join(lines)


def clean_loop(problem, factors, *, lr=1e-3, rho=0.99, eps=1e-4, tol=1e-6, max_iter=1_000_000, time_limit=None):
    """GroupRMSprop written plainly: prefix products, residual, backpropagation (3(N-1) products)."""
    loss = problem.loss
    rows, cols, y = loss.rows, loss.cols, loss.values
    m = y.size
    fs = [f.copy() for f in factors]
    n = len(fs)
    v, it, start = 0.0, 0, time.perf_counter()
    status = "max_iter"
    while True:
        pre = [fs[0]]
        for f in fs[1:]:
            pre.append(f @ pre[-1])
        w = pre[-1]
        r = w[rows, cols] - y
        value = float(r @ r) / m
        if not math.isfinite(value):
            status = "diverged"
            break
        if value <= tol:
            status = "converged"
            break
        if it >= max_iter or (time_limit is not None and time.perf_counter() - start > time_limit):
            break
        g = np.zeros_like(w)
        g[rows, cols] = 2.0 * r / m
        grads = [None] * n
        b = g
        for j in range(n - 1, 0, -1):
            grads[j] = b @ pre[j - 1].T
            b = fs[j].T @ b
        grads[0] = b
        it += 1
        v = rho * v + (1 - rho) * sum(float(np.vdot(gj, gj)) for gj in grads)
        eta = lr / (math.sqrt(v / (1 - rho ** it)) + eps)
        for f, gj in zip(fs, grads):
            f -= eta * gj
    return status, w, it, it + 1, value


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def write_public_instance(problem, where: Path) -> tuple[Path, Path]:
    import torch

    gt = where / "gt.pt"
    obs = where / f"obs_{problem.m}.pt"
    torch.save(torch.from_numpy(problem.ground_truth.astype(np.float32)), gt)
    us = torch.from_numpy(problem.loss.rows.astype(np.int64))
    vs = torch.from_numpy(problem.loss.cols.astype(np.int64))
    torch.save([(us, vs), torch.from_numpy(problem.loss.values.astype(np.float32))], obs)
    return gt, obs


def run_public(public: str, problem, depth: int, seed: int, files, args) -> dict:
    import torch

    gt, obs = files
    with tempfile.TemporaryDirectory(prefix="dmf-public-") as logdir:
        cmd = [sys.executable, str(HERE / "_public_harness.py"), public, "main.py", "--log_dir", logdir,
               "--set", "problem", "matrix-completion", "--set", "gt_path", str(gt), "--set", "obs_path", str(obs),
               "--set", "shape", f"[{problem.n}, {problem.n}]", "--set", "depth", str(depth), "--set", "lr", "0.001",
               "--set", "init_scale", "0.001", "--set", "optimizer", "GroupRMSprop", "--set", "initialization",
               "gaussian", "--set", "train_thres", "1e-06", "--set", "seed", str(seed)]
        c0, t0 = _children_cpu(), time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.time_limit)
        except subprocess.TimeoutExpired:
            return {"status": "time_limit", "seconds": args.time_limit, "cpu": math.nan, "iterations": "",
                    "nfev": "", "train_loss": math.nan, "test_mse": math.nan, "process_seconds": math.nan}
        wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
        if proc.returncode != 0:
            raise RuntimeError(f"public code failed ({proc.returncode}): {proc.stderr[-2000:]}")
        timing = json.loads(proc.stdout.strip().splitlines()[-1])
        log = (Path(logdir) / "0" / "out.log").read_text()
        last = [ln for ln in log.splitlines() if "Iter #" in ln][-1]
        it = int(last.split("Iter #")[1].split(":")[0])
        train_mse = float(last.split("train = ")[1].split(",")[0])
        e2e = torch.load(Path(logdir) / "0" / "final.npy").detach().numpy().astype(np.float64)
    return {"status": "converged" if train_mse <= 1e-6 else "max_iter", "iterations": it, "nfev": it + 1,
            "seconds": timing["seconds"], "cpu": timing["cpu"], "process_seconds": wall, "process_cpu": cpu,
            "train_loss": train_mse, "test_mse": problem.test_mse(e2e)}


def run_method(method, problem, depth, seed, args, files=None) -> dict:
    fs = init_factors(problem.n, depth, 1e-3, seed=seed, rng="public")
    if method == "public":
        return run_public(args.public_code, problem, depth, seed, files, args)
    c0, t0 = time.process_time(), time.perf_counter()
    if method == "clean":
        status, w, it, nfev, value = clean_loop(problem, fs, time_limit=args.time_limit)
    else:
        kw = {"adaptive": dict(optimizer="adaptive", lr=1e-3),
              "flow64": dict(optimizer="flow", lr=1.0, rtol=args.rtol),
              "flow32": dict(optimizer="flow", lr=1.0, rtol=args.rtol, dtype=np.float32),
              "torchflow": dict(optimizer="flow", lr=1.0, rtol=args.rtol, backend="torch", device=args.device)}[method]
        r = train(problem, fs, time_limit=args.time_limit, **kw)
        status, w, it, nfev, value = r.status, r.product, r.iterations, r.nfev, r.loss
    return {"status": status, "iterations": it, "nfev": nfev, "seconds": time.perf_counter() - t0,
            "cpu": time.process_time() - c0, "train_loss": value, "test_mse": problem.test_mse(w)}


def side_by_side(args) -> list[dict]:
    rows = []
    print(f"\n## side by side: completion n={args.n} rank={args.rank} m={args.m}, rng public, init gaussian 1e-3, "
          f"stop at train MSE <= 1e-6; flow rtol {args.rtol}")
    print("| depth | seed | method | status | iterations | grad evals | wall s | CPU s | train MSE | test MSE | "
          "test vs public | test vs adaptive | wall speed-up vs public | CPU speed-up vs public | CPU speed-up vs clean |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="dmf-bench-") as tmp:
        for seed in args.seeds:
            problem = completion_problem(args.n, args.rank, args.m, seed=seed, rng="public")
            files = write_public_instance(problem, Path(tmp)) if "public" in args.methods else None
            for depth in args.depths:
                done = {}
                for method in args.methods:
                    r = run_method(method, problem, depth, seed, args, files)
                    r.update(depth=depth, seed=seed, method=method)
                    done[method] = r
                    rows.append(r)
                for method, r in done.items():
                    pub, ada, cln = done.get("public"), done.get("adaptive"), done.get("clean")
                    r["vs_public"] = r["test_mse"] / pub["test_mse"] - 1 if pub else None
                    r["vs_adaptive"] = r["test_mse"] / ada["test_mse"] - 1 if ada else None
                    r["speedup_public"] = pub["seconds"] / r["seconds"] if pub else None
                    r["cpu_speedup_public"] = pub["cpu"] / r["cpu"] if pub and r["cpu"] > 0 else None
                    r["speedup_clean"] = cln["cpu"] / r["cpu"] if cln else None
                    pct = lambda x: "-" if x is None or not math.isfinite(x) else f"{100 * x:+.2f}%"  # noqa: E731
                    sp = lambda x: "-" if x is None or not math.isfinite(x) else f"{x:.1f}x"  # noqa: E731
                    print(f"| {depth} | {seed} | {method} | {r['status']} | {r['iterations']} | {r['nfev']} | "
                          f"{r['seconds']:.2f} | {r['cpu']:.2f} | {r['train_loss']:.2e} | {r['test_mse']:.4e} | "
                          f"{pct(r['vs_public'])} | {pct(r['vs_adaptive'])} | {sp(r['speedup_public'])} | "
                          f"{sp(r['cpu_speedup_public'])} | {sp(r['speedup_clean'])} |", flush=True)
                if "public" in done:
                    p = done["public"]
                    print(f"|   |   | (public whole process: {p.get('process_seconds', math.nan):.2f} s wall, "
                          f"{p.get('process_cpu', math.nan):.2f} s CPU) | | | | | | | | | | | | |", flush=True)
        print(f"# load average after: {os.getloadavg()}")
    return rows


def scaling(args) -> list[dict]:
    rows = []
    print("\n## n-scaling of the flow (completion, depth 3, rank 5, seed 0, project streams)")
    print("| n | m | dtype | status | grad evals | wall s | CPU s | test MSE |")
    print("|---|---|---|---|---|---|---|---|")
    for n, m in args.scaling_sizes:
        p = completion_problem(n, 5, m, seed=0)
        fs = init_factors(n, 3, 1e-3, seed=0)
        for dt in (np.float64, np.float32):
            c0, t0 = time.process_time(), time.perf_counter()
            r = train(p, fs, optimizer="flow", lr=1.0, rtol=args.rtol, dtype=dt, time_limit=args.time_limit)
            row = {"n": n, "m": m, "dtype": np.dtype(dt).name, "status": r.status, "nfev": r.nfev,
                   "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "test_mse": p.test_mse(r.product)}
            rows.append(row)
            print(f"| {n} | {m} | {row['dtype']} | {r.status} | {r.nfev} | {row['seconds']:.2f} | {row['cpu']:.2f} | "
                  f"{row['test_mse']:.4e} |", flush=True)
    print(f"# load average after: {os.getloadavg()}")
    return rows


def grid_time(args) -> dict:
    print("\n## the default figure1 grid (72 runs), --jobs 2, --no-plot")
    with tempfile.TemporaryDirectory(prefix="dmf-grid-") as out:
        c0, t0 = _children_cpu(), time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "dmf_verify.checks.cli", "experiment", "figure1", "--jobs", "2",
                               "--out", out, "--no-plot", "--no-progress"], capture_output=True, text=True)
        wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    summary = [ln for ln in proc.stderr.splitlines() if "runs:" in ln][-1:]
    print(f"exit {proc.returncode}; wall {wall:.1f} s; CPU (all processes) {cpu:.1f} s; {summary}; "
          f"load average after {os.getloadavg()}")
    return {"returncode": proc.returncode, "wall": wall, "cpu": cpu, "summary": summary}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--depths", type=int, nargs="+", default=[2, 3, 4], help="depths (default 2 3 4)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds of instance and init (default 0)")
    p.add_argument("--methods", nargs="+", default=None, choices=METHODS,
                   help="methods (default: all; 'public' only with --public-code)")
    p.add_argument("--public-code", default=None, metavar="DIR", help="a checkout of the public code to run")
    p.add_argument("--n", type=int, default=100, help="matrix size (default 100)")
    p.add_argument("--rank", type=int, default=5, help="rank (default 5)")
    p.add_argument("--m", type=int, default=2000, help="observed entries (default 2000)")
    p.add_argument("--rtol", type=float, default=1e-3, help="flow accuracy (default 1e-3, the experiments' default)")
    p.add_argument("--device", default="cpu", help="torch device of torchflow (default cpu)")
    p.add_argument("--time-limit", type=float, default=900.0, help="per run, seconds (default 900)")
    p.add_argument("--scaling", action="store_true", help="also the n-scaling table of the flow")
    p.add_argument("--scaling-sizes", type=int, nargs="+", default=[100, 2000, 200, 5200, 400, 10400],
                   metavar="N M", help="pairs n m for --scaling (default 100 2000 200 5200 400 10400)")
    p.add_argument("--grid", action="store_true", help="also time the default figure1 grid with --jobs 2")
    p.add_argument("--skip-side-by-side", action="store_true", help="only --scaling / --grid")
    p.add_argument("--json", default=None, metavar="FILE", help="write every measured row here")
    args = p.parse_args(argv)
    if args.methods is None:
        args.methods = [m for m in METHODS if m != "public" or args.public_code]
    if "public" in args.methods and not args.public_code:
        p.error("method 'public' needs --public-code DIR")
    if len(args.scaling_sizes) % 2:
        p.error("--scaling-sizes takes pairs n m")
    args.scaling_sizes = list(zip(args.scaling_sizes[::2], args.scaling_sizes[1::2]))
    print(environment(), flush=True)
    out = {}
    if not args.skip_side_by_side:
        out["side_by_side"] = side_by_side(args)
    if args.scaling:
        out["scaling"] = scaling(args)
    if args.grid:
        out["grid"] = grid_time(args)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
