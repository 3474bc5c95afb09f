"""Mutation testing of claims: a claim is only as good as the bugs it catches.

A :class:`Mutant` is a realistic bug written as a text patch (``find`` -> ``replace``) on one
source file, together with the claims that must catch it (``targets``). :func:`run_mutant` copies
the source tree into a temporary directory, applies the patch there (the installed code is never
touched), runs ``dmf-verify check TARGETS --json`` on the copy in a subprocess with a time limit,
and reports which targets stopped passing. A mutant is **killed** when at least one of its targets
reports anything but ``PASS``; a mutant that makes the run exceed its time limit counts as
**missed** (a hang is not a detection).

The project's own catalogue lives in ``tests/mutants/`` (one module per area, each defining
``MUTANTS = [Mutant(...), ...]``); users write catalogues for their own code the same way
(docs/user_tests.md).
"""

from __future__ import annotations

import enum
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dmf_verify.errors import InvalidArgument

#: The kinds of realistic bugs the catalogue draws from.
KINDS = frozenset({
    "wrong-exponent", "dropped-factor", "dropped-term", "transposed-order", "sequential-update",
    "scaled-gradient", "shifted-gradient", "sign-flip", "off-by-one", "wrong-threshold", "wrong-objective",
    "wrong-constant", "precision-loss", "float-leak", "non-rigorous-rounding", "wrong-init", "wrong-index",
    "swapped-arguments", "stale-value", "extra-term",
})


@dataclass(frozen=True)
class Mutant:
    """A bug injected on purpose into one file, and the claims that must catch it.

    ``file`` is relative to the copied root (for the project: ``"dmf_verify/numerics/losses.py"``).
    ``find`` must occur exactly ``count`` times in the file (all occurrences are replaced), so a
    catalogue that no longer matches the code fails loudly instead of testing nothing.
    """

    id: str
    kind: str
    file: str
    find: str
    replace: str
    targets: tuple[str, ...]
    description: str = ""
    count: int = 1

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InvalidArgument(f"mutant {self.id!r}: kind must be one of {sorted(KINDS)}, got {self.kind!r}")
        if not self.targets:
            raise InvalidArgument(f"mutant {self.id!r}: targets must name at least one claim")
        if isinstance(self.targets, str):
            raise InvalidArgument(f"mutant {self.id!r}: targets must be a sequence of claim ids, not a string")
        if self.find == self.replace:
            raise InvalidArgument(f"mutant {self.id!r}: replace equals find (no bug injected)")
        if self.count < 1:
            raise InvalidArgument(f"mutant {self.id!r}: count must be >= 1, got {self.count}")

    def patched(self, text: str) -> str:
        """The file's text with the bug injected (raises when ``find`` does not match ``count`` times)."""
        n = text.count(self.find)
        if n != self.count:
            raise InvalidArgument(f"mutant {self.id!r}: {self.find!r} occurs {n} times in {self.file}, "
                                  f"expected {self.count}")
        return text.replace(self.find, self.replace)


class Outcome(str, enum.Enum):
    KILLED = "killed"        # a target reported FAIL, CONTROL-PASSED or ERROR
    MISSED = "missed"        # every target still passed
    HANG = "hang"            # the run exceeded its time limit (counts as missed)
    CRASHED = "crashed"      # the command itself died without a JSON result (counts as killed, flagged)

    def __str__(self) -> str:
        return self.value

    @property
    def detected(self) -> bool:
        return self in (Outcome.KILLED, Outcome.CRASHED)


@dataclass
class MutantResult:
    mutant: Mutant
    outcome: Outcome
    statuses: dict = field(default_factory=dict)   # claim id -> status string
    seconds: float = 0.0
    message: str = ""
    messages: dict = field(default_factory=dict)   # claim id -> first line of its message (non-PASS targets)

    def caught_by(self, claim_id: str) -> bool:
        return self.statuses.get(claim_id, "PASS") != "PASS" or self.outcome is Outcome.CRASHED


def package_root() -> Path:
    """The directory that holds the ``dmf_verify`` package being mutated."""
    import dmf_verify

    return Path(dmf_verify.__file__).resolve().parent.parent


def run_mutant(mutant: Mutant, *, seed: int | None = None, timeout: float = 120.0, root: Path | None = None,
               copy: Sequence[str] = ("dmf_verify",), extra_env: dict | None = None) -> MutantResult:
    """Inject ``mutant`` into a temporary copy of ``root`` and check its targets there."""
    root = Path(root) if root is not None else package_root()
    src = root / mutant.file
    if not src.is_file():
        raise InvalidArgument(f"mutant {mutant.id!r}: no file {mutant.file!r} under {root}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dmf-mutant-") as tmp:
        tmp = Path(tmp)
        for name in copy:
            p = root / name
            if p.is_dir():
                shutil.copytree(p, tmp / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(p, tmp / name)
        dest = tmp / mutant.file
        dest.write_text(mutant.patched(src.read_text()))
        env = dict(os.environ)
        env["PYTHONPATH"] = str(tmp) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("OMP_NUM_THREADS", "1")
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("MKL_NUM_THREADS", "1")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.update(extra_env or {})
        cmd = [sys.executable, "-m", "dmf_verify.checks.cli", "check", *mutant.targets, "--json"]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        try:
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout,
                                  start_new_session=True, check=False)
        except subprocess.TimeoutExpired:
            return MutantResult(mutant, Outcome.HANG, {}, time.perf_counter() - start,
                                f"no result within {timeout:.0f} s")
    seconds = time.perf_counter() - start
    try:
        doc = json.loads(proc.stdout)
        statuses = {r["id"]: r["status"] for r in doc["results"]}
        messages = {r["id"]: (r.get("message") or "").strip().splitlines()[0][:300]
                    for r in doc["results"] if r["status"] != "PASS" and (r.get("message") or "").strip()}
    except (ValueError, KeyError, TypeError):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return MutantResult(mutant, Outcome.CRASHED, {}, seconds, f"exit {proc.returncode}: " + " | ".join(tail))
    missing = [t for t in mutant.targets if t not in statuses and not t.endswith("*")]
    if missing:
        raise InvalidArgument(f"mutant {mutant.id!r}: targets {missing} are not claims")
    killed = any(s != "PASS" for s in statuses.values())
    return MutantResult(mutant, Outcome.KILLED if killed else Outcome.MISSED, statuses, seconds, messages=messages)


# --------------------------------------------------------------------------------------------
# catalogues: loading, validation, scoring
# --------------------------------------------------------------------------------------------
def load_catalogue(paths: Iterable[str | Path]) -> list[Mutant]:
    """The mutants of every catalogue module under ``paths`` (files ``*.py`` or folders of them).

    Each module defines ``MUTANTS = [Mutant(...), ...]``; modules whose name starts with ``_`` or
    ``test_`` are skipped (helpers and tests may live next to the catalogue). Raises
    :class:`InvalidArgument` for a missing path, a module without ``MUTANTS``, a non-Mutant entry or
    a duplicate id.
    """
    import importlib.util

    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(f for f in p.glob("*.py") if not f.name.startswith(("_", "test_")))
        elif p.is_file():
            files.append(p)
        else:
            raise InvalidArgument(f"mutation catalogue path {str(p)!r} does not exist")
    if not files:
        raise InvalidArgument(f"no catalogue modules (*.py with MUTANTS) under {[str(p) for p in paths]}")
    out: list[Mutant] = []
    seen: dict[str, Path] = {}
    for f in files:
        name = f"dmf_verify_mutants_{f.stem}_{abs(hash(str(f.resolve()))) % 10**8}"
        spec = importlib.util.spec_from_file_location(name, f)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mutants = getattr(mod, "MUTANTS", None)
        if mutants is None:
            raise InvalidArgument(f"catalogue module {f} defines no MUTANTS list")
        for m in mutants:
            if not isinstance(m, Mutant):
                raise InvalidArgument(f"catalogue module {f}: MUTANTS holds {m!r}, not a Mutant")
            if m.id in seen:
                raise InvalidArgument(f"mutant id {m.id!r} appears in {seen[m.id]} and {f}")
            seen[m.id] = f
            out.append(m)
    return out


def validate_catalogue(mutants: Sequence[Mutant], *, root: Path | None = None,
                       claim_ids: Iterable[str] | None = None, min_per_claim: int = 3,
                       min_kinds: int = 2, required_claims: Iterable[str] | None = None) -> list[str]:
    """Problems with a catalogue (an empty list when it is sound).

    Checks that every mutant's file exists under ``root``, its ``find`` occurs exactly ``count``
    times and the mutated file still compiles, that every target is a known claim id (``claim_ids``),
    and that every claim in
    ``required_claims`` is targeted by at least ``min_per_claim`` mutants of at least ``min_kinds``
    different kinds.
    """
    root = Path(root) if root is not None else package_root()
    known = set(claim_ids) if claim_ids is not None else None
    problems: list[str] = []
    for m in mutants:
        src = root / m.file
        if not src.is_file():
            problems.append(f"{m.id}: no file {m.file}")
            continue
        text = src.read_text()
        n = text.count(m.find)
        if n != m.count:
            problems.append(f"{m.id}: find string occurs {n} times in {m.file}, expected {m.count}")
        elif m.file.endswith(".py"):
            try:  # a mutant that does not even compile would be 'killed' by the import error, not by a claim
                compile(m.patched(text), m.file, "exec")
            except SyntaxError as exc:
                problems.append(f"{m.id}: the mutated {m.file} does not compile ({exc.msg}, line {exc.lineno})")
        if known is not None:
            for t in m.targets:
                if t not in known:
                    problems.append(f"{m.id}: target {t!r} is not a claim id")
    if required_claims is not None:
        by_claim = targets_by_claim(mutants)
        for c in sorted(set(required_claims)):
            ms = by_claim.get(c, [])
            kinds = {m.kind for m in ms}
            if len(ms) < min_per_claim or len(kinds) < min_kinds:
                problems.append(f"claim {c}: targeted by {len(ms)} mutants of {len(kinds)} kinds "
                                f"(need >= {min_per_claim} of >= {min_kinds} kinds)")
    return problems


def targets_by_claim(mutants: Iterable[Mutant]) -> dict[str, list[Mutant]]:
    out: dict[str, list[Mutant]] = {}
    for m in mutants:
        for t in m.targets:
            out.setdefault(t, []).append(m)
    return out


def run_catalogue(mutants: Sequence[Mutant], *, jobs: int = 1, seed: int | None = None, timeout: float = 120.0,
                  root: Path | None = None, progress: Callable[[MutantResult, int, int], None] | None = None
                  ) -> list[MutantResult]:
    """Run every mutant (``jobs`` at a time, each in its own process with one BLAS thread).

    A catalogue error for one mutant (``find`` no longer matching, a target that is not a claim)
    gives that mutant the outcome ``MISSED`` with the reason in its message: one stale entry
    neither stops the run nor counts as a detection.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidArgument(f"jobs must be a positive integer, got {jobs!r}")

    def one(m: Mutant) -> MutantResult:
        try:
            return run_mutant(m, seed=seed, timeout=timeout, root=root)
        except InvalidArgument as exc:
            return MutantResult(m, Outcome.MISSED, {}, 0.0, f"catalogue error: {exc}")

    results: dict[str, MutantResult] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # threads only wait: each mutant runs in a subprocess
        futures = {pool.submit(one, m): m for m in mutants}
        for i, fut in enumerate(as_completed(futures), 1):
            r = fut.result()
            results[r.mutant.id] = r
            if progress is not None:
                progress(r, i, len(mutants))
    return [results[m.id] for m in mutants]


@dataclass
class ClaimScore:
    claim: str
    mutants: int = 0
    killed: int = 0
    missed: int = 0
    hang: int = 0
    crashed: int = 0

    @property
    def score(self) -> float:
        return (self.killed + self.crashed) / self.mutants if self.mutants else float("nan")


def score(results: Sequence[MutantResult]) -> tuple[float, dict[str, ClaimScore]]:
    """(total score, per-claim scores).

    Total: the fraction of mutants detected (killed or crashed; a hang counts as missed). Per claim:
    over the mutants that target it, how many *that claim* caught (a claim that reports anything but
    PASS), how many it missed, and how many hung or crashed the run.
    """
    per: dict[str, ClaimScore] = {}
    for r in results:
        for t in r.mutant.targets:
            c = per.setdefault(t, ClaimScore(t))
            c.mutants += 1
            if r.outcome is Outcome.HANG:
                c.hang += 1
            elif r.outcome is Outcome.CRASHED:
                c.crashed += 1
            elif r.statuses.get(t, "PASS") != "PASS":
                c.killed += 1
            else:
                c.missed += 1
    total = sum(r.outcome.detected for r in results) / len(results) if results else float("nan")
    return total, dict(sorted(per.items()))
