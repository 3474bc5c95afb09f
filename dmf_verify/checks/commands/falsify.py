"""``dmf-verify falsify TARGET|CLAIM``: hunt for the worst case with hypothesis + ``target()``.

    dmf-verify falsify --list
    dmf-verify falsify theorem3.crossing [--budget 300] [--seed 0] [--json] [--database [DIR]]
    dmf-verify falsify arora2019.theorem3          (every target attached to that claim)

Hypothesis generates instances (readable recipes, see checks/falsify_targets.py) and steers
towards large errors with ``hypothesis.target(error)`` (its targeted phase mutates the best
examples so far). The worst instance found is printed with its error, details and a one-line
reproducer. Exit status 1 when the worst error exceeds the target's tolerance (a
counterexample to the measurement as set up), 0 otherwise, 2 for an unknown target or a bad option.

Files: hypothesis keeps its working files (a cache of constants found in the code, and the
example database when ``--database`` is given) under :func:`hypothesis_home`, by default
``$XDG_CACHE_HOME/dmf-verify/hypothesis`` (``~/.cache/dmf-verify/hypothesis``), never in the
working directory; ``$DMF_VERIFY_CACHE`` moves the whole cache. Without ``--database`` a run
depends only on ``--seed`` and ``--budget``; with it, the best examples of earlier runs of the same
target are replayed first (hypothesis's pareto front), so the search resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

BUDGET_MAX = 1_000_000


def cache_dir() -> Path:
    """``$DMF_VERIFY_CACHE``, else ``$XDG_CACHE_HOME/dmf-verify``, else ``~/.cache/dmf-verify``."""
    if os.environ.get("DMF_VERIFY_CACHE"):
        return Path(os.environ["DMF_VERIFY_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dmf-verify"


def hypothesis_home() -> Path:
    """Where falsify's hypothesis files go: ``cache_dir()/hypothesis`` (a temp dir if that is not writable)."""
    home = cache_dir() / "hypothesis"
    try:
        home.mkdir(parents=True, exist_ok=True)
        if os.access(home, os.W_OK):
            return home
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / f"dmf-verify-{os.getuid() if hasattr(os, 'getuid') else 'user'}" \
        / "hypothesis"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


@contextlib.contextmanager
def hypothesis_storage(home: Path):
    """Point hypothesis's storage (``.hypothesis``) at ``home`` for the duration, then restore it."""
    import hypothesis.configuration as hc

    previous = getattr(hc, "__hypothesis_home_directory", None)
    hc.set_hypothesis_home_dir(home)
    try:
        yield home
    finally:
        hc.set_hypothesis_home_dir(previous)


def search(target, *, budget: int = 200, seed: int = 0, progress=None, database=None) -> dict:
    """Run the hypothesis search for one target; returns the worst instance and statistics.

    ``database``: a directory for hypothesis's example database (earlier runs' best examples are
    replayed first; hypothesis does not use a database for a seeded test, so ``seed`` is then not
    used and the result's ``seed`` is None), or None (default: nothing is stored, the run depends
    only on ``seed``).
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import target as htarget

    from dmf_verify.errors import InvalidArgument

    if isinstance(budget, bool) or not isinstance(budget, int) or not 1 <= budget <= BUDGET_MAX:
        raise InvalidArgument(f"budget must be an integer in [1, {BUDGET_MAX}], got {budget!r}")
    db = None
    phases = [Phase.generate, Phase.target]
    if database is not None:
        from hypothesis.database import DirectoryBasedExampleDatabase

        db = DirectoryBasedExampleDatabase(str(database))
        phases = [Phase.reuse, *phases]
    state = {"worst": None, "error": -math.inf, "details": {}, "n": 0, "errors": [], "failures": 0}
    start = time.perf_counter()

    def decorate(test):
        test = given(target.strategy())(test)
        test = settings(max_examples=budget, deadline=None, database=db, derandomize=False,
                        phases=phases, suppress_health_check=list(HealthCheck))(test)
        # hypothesis ignores its database for a seeded test, so a database run is not seeded
        return hseed(seed)(test) if db is None else test

    @decorate
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

    with contextlib.suppress(AttributeError):  # one database key per target, not one for all
        run.hypothesis.inner_test._hypothesis_internal_add_digest = target.name.encode()
    run()
    errs = sorted(state["errors"])
    return {
        "target": target.name, "claims": list(target.claims), "budget": budget,
        "seed": seed if db is None else None, "database": None if db is None else str(database),
        "examples": state["n"], "failures": state["failures"],
        "failure_examples": state.get("failure_examples", [])[:3],
        "seconds": time.perf_counter() - start, "tolerance": target.tolerance,
        "tolerance_reason": target.tolerance_reason,
        "worst_error": state["error"] if state["worst"] is not None else None,
        "worst_instance": repr(state["worst"]), "worst_details": state["details"],
        "median_error": errs[len(errs) // 2] if errs else None,
        "counterexample": bool(state["error"] > target.tolerance),
        "reproducer": (f"from dmf_verify.checks.falsify_targets import *\ninstance = {state['worst']!r}\n"
                       f"print(TARGETS[{target.name!r}].measure(instance))") if state["worst"] is not None else "",
    }


def _print(res: dict) -> None:
    print(f"\n== {res['target']} (claims: {', '.join(res['claims'])})")
    how = f"seed {res['seed']}" if res.get("database") is None else f"database {res['database']}"
    print(f"   {res['examples']} examples in {res['seconds']:.1f} s (budget {res['budget']}, {how}), "
          f"{res['failures']} raised")
    for f in res["failure_examples"]:
        print(f"   raised: {f}")
    print(f"   worst error   : {res['worst_error']:.3e}   (median {res['median_error']:.3e})"
          if res["median_error"] is not None and res["worst_error"] is not None else "   no successful example")
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
    progress = None if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    home = hypothesis_home()
    database = None
    if args.database is not None:
        database = home / "examples" if args.database is _CACHE else Path(args.database)
        database.mkdir(parents=True, exist_ok=True)
    results = []
    with hypothesis_storage(home):
        for t in targets:
            if progress:
                progress(f"falsify {t.name}: {t.description}")
            results.append(search(t, budget=args.budget, seed=args.seed, progress=progress, database=database))
            if not args.json:
                _print(results[-1])
    if args.json:
        from dmf_verify.checks.claim import jsonable

        json.dump(jsonable(results), sys.stdout, indent=2, allow_nan=False)
        print()
    return 1 if any(r["counterexample"] for r in results) else 0


class _UserCache:
    """``--database`` without DIR (not a string, so argparse does not pass it through ``type``)."""

    def __repr__(self) -> str:
        return "<user cache>"


_CACHE = _UserCache()


def add(sub) -> None:
    from dmf_verify.checks.cli import int_option, output_dir, seed_option

    s = sub.add_parser("falsify", help="hunt for the worst case of a claim's measurement with hypothesis",
                       description="Search for instances that maximize a claim's error (hypothesis with target()). "
                                   "Exit 1 when the worst error found exceeds the target's tolerance.")
    s.add_argument("target", nargs="?", metavar="TARGET",
                   help="a target name or a claim id (every target attached to it); see --list")
    s.add_argument("--budget", type=int_option(min=1, max=BUDGET_MAX), default=200, metavar="N",
                   help=f"number of examples per target, 1..{BUDGET_MAX} (default 200)")
    how = s.add_mutually_exclusive_group()
    how.add_argument("--seed", type=seed_option, default=0, metavar="N",
                     help="hypothesis seed: the run depends only on it and --budget (default 0)")
    how.add_argument("--database", type=output_dir, nargs="?", const=_CACHE, default=None, metavar="DIR",
                     help="keep hypothesis's example database in DIR (without DIR: the user cache, "
                          "$XDG_CACHE_HOME/dmf-verify/hypothesis/examples) and replay earlier runs' best examples "
                          "first; the search is then not seeded (default: no database)")
    s.add_argument("--list", action="store_true", help="list the targets and the claims they attack")
    s.add_argument("--json", action="store_true", help="print the results as JSON to standard output")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress lines on standard error")
    s.set_defaults(func=_cmd)
