"""``dmf-verify falsify TARGET|CLAIM``: hunt for the worst case with hypothesis + ``target()``.

    dmf-verify falsify --list
    dmf-verify falsify theorem3.crossing [--budget 300] [--seed 0] [--json]
    dmf-verify falsify arora2019.theorem3          (every target attached to that claim)

Hypothesis generates instances (readable recipes, see checks/falsify_targets.py) and steers
towards large errors with ``hypothesis.target(error)`` (its targeted phase mutates the best
examples so far). The worst instance found is printed with its error, details and a one-line
reproducer. Exit status 1 when the worst error exceeds the target's tolerance (a
counterexample to the measurement as set up), 0 otherwise, 2 for an unknown target.
"""

from __future__ import annotations

import json
import math
import sys
import time


def search(target, *, budget: int = 200, seed: int = 0, progress=None) -> dict:
    """Run the hypothesis search for one target; returns the worst instance and statistics."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import target as htarget

    state = {"worst": None, "error": -math.inf, "details": {}, "n": 0, "errors": [], "failures": 0}
    start = time.perf_counter()

    @hseed(seed)
    @settings(max_examples=budget, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate, Phase.target], suppress_health_check=list(HealthCheck))
    @given(target.strategy())
    def run(instance):
        state["n"] += 1
        try:
            err, details = target.measure(instance)
        except Exception as exc:  # a failing instance is reported, not fatal
            state["failures"] += 1
            state.setdefault("failure_examples", []).append(f"{instance!r}: {type(exc).__name__}: {exc}"[:300])
            return
        err = float(err) if math.isfinite(err) else 1e300
        state["errors"].append(err)
        htarget(err, label=target.name)
        if err > state["error"]:
            state.update(worst=instance, error=err, details=details)
            if progress:
                progress(f"  [{state['n']:4d}] new worst {err:.3e}  {instance!r}")

    run()
    errs = sorted(state["errors"])
    return {
        "target": target.name, "claims": list(target.claims), "budget": budget, "seed": seed,
        "examples": state["n"], "failures": state["failures"],
        "failure_examples": state.get("failure_examples", [])[:3],
        "seconds": time.perf_counter() - start, "tolerance": target.tolerance,
        "tolerance_reason": target.tolerance_reason, "worst_error": state["error"],
        "worst_instance": repr(state["worst"]), "worst_details": state["details"],
        "median_error": errs[len(errs) // 2] if errs else None,
        "counterexample": bool(state["error"] > target.tolerance),
        "reproducer": (f"from dmf_verify.checks.falsify_targets import *\ninstance = {state['worst']!r}\n"
                       f"print(TARGETS[{target.name!r}].measure(instance))") if state["worst"] is not None else "",
    }


def _print(res: dict) -> None:
    print(f"\n== {res['target']} (claims: {', '.join(res['claims'])})")
    print(f"   {res['examples']} examples in {res['seconds']:.1f} s (budget {res['budget']}, seed {res['seed']}), "
          f"{res['failures']} raised")
    for f in res["failure_examples"]:
        print(f"   raised: {f}")
    print(f"   worst error   : {res['worst_error']:.3e}   (median {res['median_error']:.3e})"
          if res["median_error"] is not None else "   no successful example")
    print(f"   tolerance     : {res['tolerance']:.1e}  ({res['tolerance_reason']})")
    verdict = "COUNTEREXAMPLE (worst error above tolerance)" if res["counterexample"] else "no counterexample found"
    print(f"   verdict       : {verdict}")
    print(f"   worst instance: {res['worst_instance']}")
    for k, v in res["worst_details"].items():
        print(f"     {k}: {v}")
    if res["reproducer"]:
        print("   reproduce:")
        for ln in res["reproducer"].splitlines():
            print("     " + ln)


def _cmd(args) -> int:
    from dmf_verify.checks.falsify_targets import TARGETS, resolve

    if args.list or not args.target:
        for t in TARGETS.values():
            print(f"{t.name:20s} {', '.join(t.claims):45s} {t.description}")
        return 0
    targets = resolve(args.target)
    progress = None if (args.json or args.quiet) else (lambda s: print(s, flush=True))
    results = []
    for t in targets:
        if progress:
            progress(f"falsify {t.name}: {t.description}")
        results.append(search(t, budget=args.budget, seed=args.seed, progress=progress))
        if not args.json:
            _print(results[-1])
    if args.json:
        json.dump(results, sys.stdout, indent=2, default=str)
        print()
    return 1 if any(r["counterexample"] for r in results) else 0


def add(sub) -> None:
    s = sub.add_parser("falsify", help="hunt for the worst case of a claim's measurement with hypothesis",
                       description="Search for instances that maximize a claim's error (hypothesis with target()).")
    s.add_argument("target", nargs="?", help="a target name (see --list) or a claim id")
    s.add_argument("--budget", type=int, default=200, help="number of examples (default 200)")
    s.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")
    s.add_argument("--list", action="store_true", help="list the targets")
    s.add_argument("--json", action="store_true", help="print the results as JSON")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    s.set_defaults(func=_cmd)
