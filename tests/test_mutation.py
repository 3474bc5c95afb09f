"""The mutation catalogue (tests/mutants/*.py) and its runner.

Default run: the catalogue is valid (every ``find`` matches its file exactly ``count`` times, every
target is a claim, every claim is targeted by >= 3 mutants of >= 2 kinds), the runner scores a
harmless edit as MISSED, and a small fast subset of real mutants is killed (< 60 s on 2 cores).
``-m mutation``: the full catalogue, score >= 95%, no hang.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dmf_verify.checks import registry
from dmf_verify.checks.mutation import (
    KINDS,
    Mutant,
    Outcome,
    load_catalogue,
    package_root,
    run_catalogue,
    score,
    targets_by_claim,
    validate_catalogue,
)
from dmf_verify.errors import InvalidArgument

CATALOGUE = Path(__file__).parent / "mutants"
FAST = ("losses.completion_gradient_drops_2", "descent.sequential_update", "chou.upper_bound_loosened",
        "asym.gd_half_gradient", "precise.output_rounded")


@pytest.fixture(scope="module")
def mutants():
    return load_catalogue([CATALOGUE])


def test_catalogue_is_valid_and_covers_every_claim(mutants):
    ids = {c.id for c in registry.all_claims()}
    problems = validate_catalogue(mutants, root=package_root(), claim_ids=ids, required_claims=ids)
    assert not problems, "\n".join(problems)
    assert len(mutants) >= 100
    assert {m.kind for m in mutants} <= KINDS
    by_claim = targets_by_claim(mutants)
    assert set(by_claim) == ids


def test_catalogue_holds_the_bug_kinds_the_issue_names(mutants):
    kinds = {m.kind for m in mutants}
    for k in ("wrong-exponent", "dropped-factor", "transposed-order", "sequential-update", "scaled-gradient",
              "sign-flip", "off-by-one", "wrong-threshold", "wrong-objective", "precision-loss", "float-leak",
              "non-rigorous-rounding", "extra-term"):
        assert k in kinds, k


def test_mutant_validation_names_the_problem(tmp_path):
    with pytest.raises(InvalidArgument, match="kind"):
        Mutant(id="x", kind="typo", file="f.py", find="a", replace="b", targets=("c",))
    with pytest.raises(InvalidArgument, match="string"):
        Mutant(id="x", kind="sign-flip", file="f.py", find="a", replace="b", targets="c")
    with pytest.raises(InvalidArgument, match="no bug"):
        Mutant(id="x", kind="sign-flip", file="f.py", find="a", replace="a", targets=("c",))
    m = Mutant(id="x", kind="sign-flip", file="f.py", find="a", replace="b", targets=("c",), count=2)
    with pytest.raises(InvalidArgument, match="occurs 1 times"):
        m.patched("a")
    assert m.patched("a a") == "b b"
    bad = tmp_path / "bad.py"
    bad.write_text("X = 1\n")
    with pytest.raises(InvalidArgument, match="MUTANTS"):
        load_catalogue([bad])
    with pytest.raises(InvalidArgument, match="does not exist"):
        load_catalogue([tmp_path / "missing"])
    stale = Mutant(id="stale", kind="sign-flip", file="dmf_verify/numerics/losses.py", find="no such text",
                   replace="x", targets=("losses.gradient", "no.such.claim"))
    problems = validate_catalogue([stale], claim_ids={"losses.gradient"})
    assert any("occurs 0 times" in p for p in problems) and any("no.such.claim" in p for p in problems)


def test_a_harmless_edit_is_missed_and_scored():
    harmless = Mutant(id="harmless.comment", kind="sign-flip", file="dmf_verify/checks/claims/general/balanced_init.py",
                      find="SHAPES = ((5, 3), (3, 5), (4, 4))\n",
                      replace="SHAPES = ((5, 3), (3, 5), (4, 4))  # an edit that changes nothing\n",
                      targets=("model.balanced_init",))
    [r] = run_catalogue([harmless], jobs=1, timeout=120)
    assert r.outcome is Outcome.MISSED and r.statuses == {"model.balanced_init": "PASS"}
    total, per = score([r])
    assert total == 0.0 and per["model.balanced_init"].missed == 1


def test_fast_subset_is_killed(mutants):
    chosen = [m for m in mutants if m.id in FAST]
    assert len(chosen) == len(FAST)
    results = run_catalogue(chosen, jobs=2, timeout=180)
    missed = [(r.mutant.id, r.outcome.value, r.message) for r in results if r.outcome is not Outcome.KILLED]
    assert not missed, missed
    total, per = score(results)
    assert total == 1.0
    assert all(s.killed == s.mutants for c, s in per.items() if c in ("losses.gradient", "descent.gradient_step"))


def test_mutate_command_lists_and_scores(tmp_path):
    cat = tmp_path / "one.py"
    cat.write_text(
        "from dmf_verify.checks.mutation import Mutant\n"
        "MUTANTS = [Mutant(id='one.harmless', kind='sign-flip', file='dmf_verify/checks/claims/general/balanced_init.py',"
        " find='HIDDEN = [4, 6, 3, 5]\\n', replace='HIDDEN = [4, 6, 3, 5]  # same\\n', targets=('model.balanced_init',))]\n")
    cmd = [sys.executable, "-m", "dmf_verify.checks.cli", "mutate", str(cat)]
    out = subprocess.run(cmd + ["--list"], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and "one.harmless" in out.stdout
    out = subprocess.run(cmd + ["--json", "--no-baseline", "--jobs", "1", "--min-score", "50%"], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["score"] == 0.0 and doc["counts"]["missed"] == 1 and doc["per_claim"]["model.balanced_init"]["missed"] == 1
    out = subprocess.run(cmd + ["--only", "nothing.*"], capture_output=True, text=True, check=False)
    assert out.returncode == 2 and "no mutant matches" in out.stderr
    out = subprocess.run(cmd + ["--min-score", "2"], capture_output=True, text=True, check=False)
    assert out.returncode == 2 and "--min-score" in out.stderr


@pytest.mark.mutation
def test_full_catalogue_scores_at_least_95_percent(mutants):
    results = run_catalogue(mutants, jobs=2, timeout=300)
    total, _per = score(results)
    hangs = [r.mutant.id for r in results if r.outcome is Outcome.HANG]
    missed = [r.mutant.id for r in results if not r.outcome.detected]
    assert not hangs, hangs
    assert total >= 0.95, f"score {total:.1%}; not detected: {missed}"
