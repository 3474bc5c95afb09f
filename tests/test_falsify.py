"""dmf-verify falsify: the hypothesis-driven worst-case search and its measurement targets."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from dmf_verify.checks.cli import main
from dmf_verify.checks.commands.falsify import search
from dmf_verify.checks.errors import UnknownClaimError
from dmf_verify.checks.falsify_targets import TARGETS, NearCrossing, SmallCompletion, Target, resolve


def test_resolve_by_name_and_by_claim():
    assert [t.name for t in resolve("lemma2.crossing")] == ["lemma2.crossing"]
    assert {t.name for t in resolve("arora2019.theorem3")} == {"theorem3.crossing", "theorem3.fixed_h",
                                                                "theorem3.tangent"}
    with pytest.raises(UnknownClaimError, match="targets"):
        resolve("nope")
    assert main(["falsify", "nope"]) == 2


def test_search_steers_to_the_maximum_and_flags_counterexamples():
    toy = Target("toy", ("toy.claim",), "x/1000 for x in 0..1000", lambda: st.integers(0, 1000),
                 lambda x: (x / 1000, {"x": x}), 0.9, "toy")
    res = search(toy, budget=60, seed=1)
    assert res["worst_error"] > 0.9 and res["counterexample"]
    assert res["worst_details"]["x"] == int(res["worst_instance"])


def test_tangent_target_finds_no_counterexample(capsys):
    assert main(["falsify", "theorem3.tangent", "--budget", "15", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "no counterexample found" in out and "NearCrossing(" in out and "reproduce" in out


@pytest.mark.parametrize("log10_gap", [-1.0, -4.0])
def test_near_crossing_measurements_resolve_the_formulas(log10_gap):
    inst = NearCrossing(depth=3, shape=(3, 2), log10_gap=log10_gap, m=5, seed=1)
    for name in ("theorem3.crossing", "lemma2.crossing", "theorem3.tangent"):
        err, _ = TARGETS[name].measure(inst)
        assert 0 <= err <= TARGETS[name].tolerance, (name, err)


def test_fixed_spacing_check_loses_resolution_near_a_crossing():
    # the claim's FD check (h = 2e-3) is not valid near crossings: this is what the search reports
    err, details = TARGETS["theorem3.fixed_h"].measure(NearCrossing(3, (3, 2), -3.0, 5, seed=1))
    assert err > 1e2 * TARGETS["theorem3.fixed_h"].tolerance


def test_conjecture1_counterexample_found_by_the_search():
    # found by `dmf-verify falsify conjecture1.gap --budget 40`: 3 observed entries of a 2x3 matrix;
    # depth-3 GD goes to an (almost) rank-1 completion with 1.7x the minimum nuclear norm
    inst = SmallCompletion(shape=(2, 3), m=3, depth=3, alpha=0.03, seed=1)
    err, details = TARGETS["conjecture1.gap"].measure(inst)
    assert err > 0.5 > TARGETS["conjecture1.gap"].tolerance
    sv = details["singular values of W_GD"]
    assert sv[1] < 1e-3 * sv[0]
    assert abs(details["certified duality gap"]) < 1e-6


def test_every_target_names_real_claims():
    from dmf_verify.checks import registry

    ids = {c.id for c in registry.index()}
    for t in TARGETS.values():
        assert t.claims, t.name
        missing = [c for c in t.claims if c not in ids]
        assert not missing, f"falsify target {t.name} names claims that do not exist: {missing}"


def test_falsify_writes_nothing_to_the_working_directory(tmp_path):
    import os
    import subprocess
    import sys

    cwd, cache = tmp_path / "work", tmp_path / "cache"
    cwd.mkdir()
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    env.pop("DMF_VERIFY_CACHE", None)
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    res = subprocess.run([sys.executable, "-m", "dmf_verify.checks.cli", "falsify", "theorem3.tangent", "--budget",
                          "3", "--json", "--database"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert list(cwd.iterdir()) == []
    assert (cache / "dmf-verify" / "hypothesis" / "examples").is_dir()
    from dmf_verify.checks.result_schema import loads_strict

    (doc,) = loads_strict(res.stdout)  # strict JSON, progress went to stderr
    assert doc["target"] == "theorem3.tangent" and doc["examples"] >= 1
    assert "falsify theorem3.tangent" in res.stderr


def test_database_stores_examples_and_a_seeded_run_stores_none(tmp_path):
    import os

    toy = Target("toy.db", ("toy.claim",), "x/1000", lambda: st.integers(0, 1000), lambda x: (x / 1000, {"x": x}),
                 2.0, "toy")
    res = search(toy, budget=30, database=tmp_path / "db")
    assert res["seed"] is None and res["database"] == str(tmp_path / "db")
    assert sum(len(files) for _, _, files in os.walk(tmp_path / "db")) > 0  # hypothesis's pareto front
    seeded = search(toy, budget=30, seed=4)
    assert seeded["seed"] == 4 and seeded["database"] is None
    assert search(toy, budget=30, seed=4)["worst_error"] == seeded["worst_error"]  # reproducible


def test_search_validates_the_budget():
    from dmf_verify.errors import InvalidArgument

    for bad in (0, -3, 1.5, True):
        with pytest.raises(InvalidArgument, match="budget"):
            search(TARGETS["theorem3.tangent"], budget=bad)
