"""``dmf-verify sweep``: check every claim on many seeds and report how much room each tolerance has.

    dmf-verify sweep [ID ...] [--seeds 0-19] [--jobs N] [--slow] [--json]

For each claim: the worst error / tolerance over the seeds (must be <= 1/3 for a 3x margin), the
smallest control error / tolerance (must be >= 3), the seeds on which it did not pass, and the time.
Rate claims are marked: for them the binomial statistics decide, not a margin. Every (claim, seed)
runs in its own worker process (one BLAS thread each). Exit status 1 when any check did not pass.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time


def parse_seeds(text: str) -> list[int]:
    """'0-19', '0,3,7' or '0-4,12345' -> a sorted list of distinct seeds."""
    from dmf_verify.checks.claim import check_seed
    from dmf_verify.errors import InvalidArgument

    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            a, b = (int(x) for x in part.split("-", 1)) if "-" in part else (int(part), int(part))
        except ValueError:
            raise InvalidArgument(f"--seeds must look like '0-19' or '0,3,7', got {text!r}") from None
        if b < a:  # outside the try: InvalidArgument is a ValueError
            raise InvalidArgument(f"--seeds range {part!r} is empty (its end {b} is below its start {a})")
        out.update(range(a, b + 1))
    if not out:
        raise InvalidArgument(f"--seeds selects no seed: {text!r}")
    return [check_seed(s) for s in sorted(out)]


def _task(args):
    claim_id, seed = args
    from dmf_verify.checks import registry

    r = registry.get(claim_id).check(seed=seed)
    d = r.to_dict()
    out = {k: d[k] for k in ("status", "error", "control_error", "tolerance", "seconds", "message")}
    if isinstance(d["details"].get("rate"), dict):  # a Rate claim: keep the counts
        rate = d["details"]["rate"]
        out["rate"] = {k: rate.get(k) for k in ("successes", "trials", "claimed_rate", "lower_bound",
                                                "failed_instances")}
        crate = d["control_details"].get("rate", {})
        out["control_rate"] = {k: crate.get(k) for k in ("successes", "trials", "upper_bound")}
    return claim_id, seed, out


def _init_worker():
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = "1"


def sweep(claims, seeds, *, jobs: int = 1, progress=None) -> dict:
    """{claim id: summary} over ``seeds`` (see the module docstring)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    tasks = [(c.id, s) for c in sorted(claims, key=lambda c: not c.slow) for s in seeds]
    raw: dict[str, dict[int, dict]] = {c.id: {} for c in claims}
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(k, "1")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"), initializer=_init_worker) as ex:
        futs = [ex.submit(_task, t) for t in tasks]
        for i, f in enumerate(as_completed(futs), 1):
            cid, seed, res = f.result()
            raw[cid][seed] = res
            if progress:
                progress(f"[{i}/{len(tasks)}] {cid} seed {seed}: {res['status']} ({res['seconds']:.1f} s)")
    out = {}
    for c in claims:
        rows = raw[c.id]
        tol = c.tolerance
        errs = [r["error"] for r in rows.values() if r["error"] is not None]
        ctls = [r["control_error"] for r in rows.values() if r["control_error"] is not None]
        worst_seed = max(rows, key=lambda s: -1 if rows[s]["error"] is None else rows[s]["error"])
        min_seed = min(rows, key=lambda s: math.inf if rows[s]["control_error"] is None else rows[s]["control_error"])
        out[c.id] = {
            "tolerance": tol, "slow": c.slow, "rate": any("rate" in r for r in rows.values()),
            "rate_counts": {s: (r["rate"]["successes"], r["rate"]["trials"]) for s, r in sorted(rows.items())
                            if "rate" in r},
            "control_rate_counts": {s: (r["control_rate"]["successes"], r["control_rate"]["trials"])
                                    for s, r in sorted(rows.items()) if "control_rate" in r},
            "seeds": len(rows), "not_passed": {s: r["status"] for s, r in sorted(rows.items()) if r["status"] != "PASS"},
            "worst_error": max(errs) if errs else None, "worst_error_seed": worst_seed,
            "worst_error_over_tol": (max(errs) / tol if tol > 0 else None) if errs else None,
            "min_control": min(ctls) if ctls else None, "min_control_seed": min_seed,
            "min_control_over_tol": (min(ctls) / tol if tol > 0 else None) if ctls else None,
            "seconds_max": max(r["seconds"] for r in rows.values()),
            "seconds_mean": sum(r["seconds"] for r in rows.values()) / len(rows),
            "messages": {s: r["message"].splitlines()[0][:200] for s, r in rows.items()
                         if r["status"] != "PASS" and r["message"]},
        }
    return out


def _cmd(args) -> int:
    from dmf_verify.checks import registry

    seeds = parse_seeds(args.seeds)
    claims = registry.select(args.ids, include_slow=args.slow)
    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    left_out = 0 if args.slow else registry.count_slow(args.ids)
    if left_out:
        print(f"{left_out} slow claim(s) not run (add --slow, or name them by their exact id)", file=sys.stderr)
    start = time.perf_counter()
    res = sweep(claims, seeds, jobs=args.jobs, progress=log)
    wall = time.perf_counter() - start
    if args.json:
        json.dump({"schema_version": 1, "seeds": seeds, "wall_seconds": wall, "claims": res}, sys.stdout, indent=2,
                  default=str)
        print()
    else:
        print(f"{'claim':42s} {'worst err/tol':>13s} {'(seed)':>7s} {'min ctl/tol':>12s} {'(seed)':>7s} "
              f"{'not passed':>10s} {'s max':>6s}")
        for cid, r in res.items():
            e = "-" if r["worst_error_over_tol"] is None else f"{r['worst_error_over_tol']:.3g}"
            c = "-" if r["min_control_over_tol"] is None else f"{r['min_control_over_tol']:.3g}"
            print(f"{cid:42s} {e:>13s} {r['worst_error_seed']:>7} {c:>12s} {r['min_control_seed']:>7} "
                  f"{len(r['not_passed']):>10d} {r['seconds_max']:6.1f}" + ("  [Rate]" if r["rate"] else ""))
            if r["rate"]:
                ok = sum(a for a, _ in r["rate_counts"].values())
                n = sum(b for _, b in r["rate_counts"].values())
                okc = sum(a for a, _ in r["control_rate_counts"].values())
                nc = sum(b for _, b in r["control_rate_counts"].values())
                print(f"    instances: {ok}/{n} held ({ok / max(n, 1):.1%}); control: {okc}/{nc}")
            for s, msg in r["messages"].items():
                print(f"    seed {s}: {msg}")
        print(f"\n{len(res)} claims x {len(seeds)} seeds in {wall:.0f} s ({args.jobs} jobs)")
    return 0 if all(not r["not_passed"] for r in res.values()) else 1


def add(sub) -> None:
    s = sub.add_parser("sweep", help="check claims on many seeds: worst error/tolerance and smallest control/tolerance",
                       description="Run every selected claim on every seed (default 0-19) and report per claim the "
                                   "worst error/tolerance and the smallest control error/tolerance.")
    s.add_argument("ids", nargs="*", help="claim ids or prefixes ending in '*' (default: all non-slow claims)")
    s.add_argument("--seeds", default="0-19", help="seeds, e.g. '0-19' (default) or '0,3,7'")
    from dmf_verify.checks.cli import int_option

    s.add_argument("--jobs", "-j", type=int_option(min=1), default=max(1, min(4, os.cpu_count() or 1)),
                   help="worker processes (default: cores, <= 4)")
    s.add_argument("--slow", action="store_true", help="include claims marked slow")
    s.add_argument("--json", action="store_true", help="print one JSON document (progress on stderr)")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    s.set_defaults(func=_cmd)
