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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dmf_verify.errors import InvalidArgument

#: The kinds of realistic bugs the catalogue draws from.
KINDS = frozenset({
    "wrong-exponent", "dropped-factor", "dropped-term", "transposed-order", "sequential-update",
    "scaled-gradient", "shifted-gradient", "sign-flip", "off-by-one", "wrong-threshold", "wrong-objective",
    "wrong-constant", "precision-loss", "float-leak", "non-rigorous-rounding", "wrong-init", "wrong-index",
    "swapped-arguments", "stale-value",
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
                                  start_new_session=True)
        except subprocess.TimeoutExpired:
            return MutantResult(mutant, Outcome.HANG, {}, time.perf_counter() - start,
                                f"no result within {timeout:.0f} s")
    seconds = time.perf_counter() - start
    try:
        doc = json.loads(proc.stdout)
        statuses = {r["id"]: r["status"] for r in doc["results"]}
    except (ValueError, KeyError, TypeError):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return MutantResult(mutant, Outcome.CRASHED, {}, seconds, f"exit {proc.returncode}: " + " | ".join(tail))
    missing = [t for t in mutant.targets if t not in statuses and not t.endswith("*")]
    if missing:
        raise InvalidArgument(f"mutant {mutant.id!r}: targets {missing} are not claims")
    killed = any(s != "PASS" for s in statuses.values())
    return MutantResult(mutant, Outcome.KILLED if killed else Outcome.MISSED, statuses, seconds)
