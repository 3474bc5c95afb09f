"""The mutation catalogue of issue 18's claims (tests/mutants/claims_extended.py).

Default run: the catalogue is well formed (every find string matches, every target is a registered claim) and
every new claim is the target of >= 3 mutants of different kinds; one cheap mutant is run for real.
``-m mutation``: every mutant is run (seed 0) and must be caught by every claim it lists.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from mutants.claims_extended import MISSED, MUTANTS
from test_claims_extended import NEW_CLAIMS

ROOT = Path(__file__).resolve().parent.parent


def test_catalogue_matches_the_code_and_names_real_claims():
    from dmf_verify.checks import registry

    ids = {m.id for m in MUTANTS}
    assert len(ids) == len(MUTANTS)
    for m in MUTANTS + MISSED:
        m.patched((ROOT / m.file).read_text())  # raises when the find string no longer matches
        for t in m.targets:
            registry.get(t)


def test_every_new_claim_has_three_kinds_of_mutants():
    kinds = defaultdict(set)
    for m in MUTANTS:
        for t in m.targets:
            kinds[t].add(m.kind)
    short = {c: sorted(kinds[c]) for c in NEW_CLAIMS if len(kinds[c]) < 3}
    assert not short, short


def _run(m):
    from dmf_verify.checks.mutation import run_mutant

    res = run_mutant(m, seed=0, timeout=900)
    assert res.outcome.detected, (m.id, res.outcome, res.statuses, res.message)
    missed = [t for t in m.targets if not res.caught_by(t)]
    assert not missed, (m.id, "not caught by", missed, res.statuses)


def test_one_cheap_mutant_is_caught():
    _run(next(m for m in MUTANTS if m.id == "psd.entropic_alpha_power"))


@pytest.mark.mutation
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_is_caught(mutant):
    _run(mutant)
