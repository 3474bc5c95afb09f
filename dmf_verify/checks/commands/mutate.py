"""``dmf-verify mutate``: run the mutation catalogue and report which claims catch which bugs.

    dmf-verify mutate [PATH ...] [--jobs N] [--timeout S] [--seed N] [--only PATTERN ...]
                      [--claim ID ...] [--json] [--min-score F] [--list] [--no-baseline]

Each catalogue module (default: ``tests/mutants/*.py``) defines ``MUTANTS = [Mutant(...), ...]``
(:mod:`dmf_verify.checks.mutation`). Every mutant is injected into a temporary copy of the package
and its target claims are checked there in a subprocess (``--jobs`` at a time, one BLAS thread
each) with a time limit; a run past the limit is a HANG and counts as missed. First the targets
are checked once on the unmutated copy (the baseline): a target that does not pass unmutated
would "kill" every mutant, so the command stops with exit status 2 instead.

Output: one row per claim (mutants targeting it, killed by it, missed, hang, crashed, score), the
missed mutants, and the total score (fraction of mutants detected by at least one target).
Exit status 1 when the total score is below ``--min-score``, 2 for a bad catalogue or baseline.
"""

from __future__ import annotations

import fnmatch
import json
import sys
import time
from pathlib import Path


def _default_paths() -> list[Path]:
    from dmf_verify.checks.mutation import package_root

    here = Path("tests/mutants")
    if here.is_dir():
        return [here]
    return [package_root() / "tests" / "mutants"]


def _select(mutants, only, claims):
    out = mutants
    if only:
        out = [m for m in out if any(fnmatch.fnmatchcase(m.id, p) for p in only)]
    if claims:
        def hit(m):
            return any(t == c or (c.endswith("*") and t.startswith(c.rstrip("*"))) for t in m.targets for c in claims)
        out = [m for m in out if hit(m)]
    return out


def baseline(targets: list[str], *, seed, timeout: float) -> dict:
    """Statuses of ``targets`` on an unmutated copy (the same path a mutant run takes)."""
    import os
    import subprocess
    import tempfile

    from dmf_verify.checks.mutation import package_root

    root = package_root()
    import shutil

    with tempfile.TemporaryDirectory(prefix="dmf-baseline-") as tmp:
        shutil.copytree(root / "dmf_verify", Path(tmp) / "dmf_verify",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        env = dict(os.environ, PYTHONPATH=tmp, PYTHONDONTWRITEBYTECODE="1")
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(k, "1")
        cmd = [sys.executable, "-m", "dmf_verify.checks.cli", "check", *targets, "--json"]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"error": f"the baseline check did not finish within {timeout:.0f} s"}
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        tail = " | ".join((proc.stderr or "").strip().splitlines()[-3:])
        return {"error": f"the baseline check crashed (exit {proc.returncode}): {tail}"}
    return {"statuses": {r["id"]: r["status"] for r in doc["results"]},
            "seconds": {r["id"]: r["seconds"] for r in doc["results"]},
            "wall": time.perf_counter() - start}


def _cmd(args) -> int:
    from dmf_verify.checks import registry
    from dmf_verify.checks.claim import check_seed
    from dmf_verify.checks.mutation import load_catalogue, run_catalogue, score, validate_catalogue
    from dmf_verify.errors import InvalidArgument

    if args.seed is not None:
        check_seed(args.seed)  # a bad seed would crash every run, and a crash counts as a detection
    paths = [Path(p) for p in args.paths] if args.paths else _default_paths()
    mutants = _select(load_catalogue(paths), args.only, args.claim)
    if not mutants:
        raise InvalidArgument("no mutant matches the selection (--only / --claim)")
    known = {c.id for c in registry.all_claims()}
    problems = validate_catalogue(mutants, claim_ids=known)
    if problems:
        for p in problems:
            print(f"catalogue: {p}", file=sys.stderr)
        raise InvalidArgument(f"{len(problems)} catalogue problem(s) (listed above); fix the catalogue first")
    if args.list:
        for m in mutants:
            print(f"{m.id:48s} {m.kind:22s} {m.file:44s} -> {', '.join(m.targets)}")
        print(f"{len(mutants)} mutants")
        return 0
    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    targets = sorted({t for m in mutants for t in m.targets})
    base = None
    if not args.no_baseline:
        log(f"baseline: checking {len(targets)} target claims on the unmutated code ...")
        base = baseline(targets, seed=args.seed, timeout=max(args.timeout, 600.0))
        if "error" in base:
            raise InvalidArgument(base["error"])
        bad = {k: v for k, v in base["statuses"].items() if v != "PASS"}
        if bad:
            raise InvalidArgument(f"targets do not pass on the unmutated code (seed {args.seed}): {bad}; a mutant "
                                  "cannot be scored against a claim that already fails")
        log(f"baseline: all {len(targets)} pass ({base['wall']:.1f} s)")

    def progress(r, i, n):
        caught = [t for t in r.mutant.targets if r.statuses.get(t, "PASS") != "PASS"]
        extra = f" by {', '.join(caught)}" if caught else (f" ({r.message})" if r.message else "")
        log(f"[{i}/{n}] {r.mutant.id}: {r.outcome.value}{extra} ({r.seconds:.1f} s)")

    start = time.perf_counter()
    results = run_catalogue(mutants, jobs=args.jobs, seed=args.seed, timeout=args.timeout, progress=progress)
    wall = time.perf_counter() - start
    total, per = score(results)
    counts = {o: sum(r.outcome.value == o for r in results) for o in ("killed", "missed", "hang", "crashed")}
    if args.json:
        doc = {"schema_version": 1, "seed": args.seed, "jobs": args.jobs, "timeout": args.timeout,
               "wall_seconds": wall, "score": total, "counts": counts, "mutants": len(results),
               "per_claim": {c: {"mutants": s.mutants, "killed": s.killed, "missed": s.missed, "hang": s.hang,
                                 "crashed": s.crashed, "score": s.score} for c, s in per.items()},
               "results": [{"id": r.mutant.id, "kind": r.mutant.kind, "file": r.mutant.file,
                            "targets": list(r.mutant.targets), "outcome": r.outcome.value, "statuses": r.statuses,
                            "seconds": r.seconds, "message": r.message, "messages": r.messages,
                            "description": r.mutant.description}
                           for r in results],
               "baseline_seconds": base["seconds"] if base else None}
        json.dump(doc, sys.stdout, indent=2)
        print()
    else:
        print(f"{'claim':42s} {'mutants':>7s} {'killed':>6s} {'missed':>6s} {'hang':>5s} {'crashed':>7s} {'score':>7s}")
        for c, s in per.items():
            print(f"{c:42s} {s.mutants:7d} {s.killed:6d} {s.missed:6d} {s.hang:5d} {s.crashed:7d} {s.score:7.1%}")
        missed = [r for r in results if not r.outcome.detected]
        if missed:
            print("\nnot detected:")
            for r in missed:
                why = f" ({r.message})" if r.message else ""
                print(f"  {r.mutant.id} [{r.mutant.kind}, {r.outcome.value}] -> {', '.join(r.mutant.targets)}{why}")
        print(f"\nscore {total:.1%}: {counts['killed']} killed, {counts['crashed']} crashed, {counts['missed']} "
              f"missed, {counts['hang']} hang of {len(results)} mutants ({wall:.0f} s wall, {args.jobs} jobs, "
              f"seed {args.seed if args.seed is not None else 'default'})")
    if args.min_score is not None and not total >= args.min_score:
        if not args.json:
            print(f"score {total:.1%} is below --min-score {args.min_score:.1%}", file=sys.stderr)
        return 1
    return 0


def _fraction(text: str) -> float:
    import argparse

    try:
        v = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--min-score must be a number in [0, 1] or a percentage, got {text!r}")
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"--min-score must lie in [0, 1] (or 0%-100%), got {text!r}")
    return v


def _positive_int(text: str) -> int:
    import argparse

    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _positive_float(text: str) -> float:
    import argparse
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return v


def add(sub) -> None:
    import os

    s = sub.add_parser("mutate", help="inject the mutation catalogue's bugs and score the claims that must catch them",
                       description="Run the mutation catalogue (tests/mutants/*.py by default): each mutant is a "
                                   "realistic bug injected into a temporary copy of the package; its target claims "
                                   "must stop passing.")
    s.add_argument("paths", nargs="*", help="catalogue modules or folders (default: tests/mutants)")
    s.add_argument("--jobs", "-j", type=_positive_int, default=max(1, min(4, os.cpu_count() or 1)),
                   help="mutants run at once, each in its own process with one BLAS thread (default: cores, <= 4)")
    s.add_argument("--timeout", type=_positive_float, default=180.0,
                   help="seconds per mutant; a run past it is a HANG and counts as missed (default 180)")
    s.add_argument("--seed", type=int, default=None, help="seed passed to every check (default: each claim's own)")
    s.add_argument("--only", nargs="+", metavar="PATTERN", help="mutant ids (fnmatch patterns, e.g. 'losses.*')")
    s.add_argument("--claim", nargs="+", metavar="ID", help="only mutants targeting these claims ('chou.*' allowed)")
    s.add_argument("--json", action="store_true", help="print one JSON document (progress on stderr)")
    s.add_argument("--min-score", type=_fraction, default=None,
                   help="exit 1 when the total score is below this fraction (e.g. 0.95 or 95%%)")
    s.add_argument("--list", action="store_true", help="list the selected mutants and exit")
    s.add_argument("--no-baseline", action="store_true", help="skip checking the targets on the unmutated code")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    s.set_defaults(func=_cmd)
