"""`dmf-verify sweep`: every claim on seeds 0..19, with >= 3x margins (Rates: the statistics decide)."""

from __future__ import annotations

import pytest

from dmf_verify.checks import registry
from dmf_verify.checks.commands.sweep import parse_seeds, sweep
from dmf_verify.errors import InvalidArgument


def test_parse_seeds():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("5, 1,2-3,5") == [1, 2, 3, 5]
    for bad in ("", "a-b", "3-1", "-4"):
        with pytest.raises(InvalidArgument):
            parse_seeds(bad)


def test_sweep_reports_margins_per_claim():
    claims = registry.select(["model.balanced_init", "soltanolkotabi.balance.gd"])
    res = sweep(claims, [0, 1], jobs=1)
    for cid, r in res.items():
        assert r["seeds"] == 2 and not r["not_passed"], (cid, r)
        assert r["worst_error_over_tol"] < 1 / 3 and r["min_control_over_tol"] > 3
        assert r["worst_error_seed"] in (0, 1) and not r["rate"]


@pytest.mark.slow
def test_every_claim_holds_on_20_seeds_with_3x_margins():
    claims = registry.all_claims(include_slow=True)
    res = sweep(claims, list(range(20)), jobs=2)
    failed = {cid: r["not_passed"] for cid, r in res.items() if r["not_passed"]}
    assert not failed, failed
    thin = {cid: (r["worst_error_over_tol"], r["min_control_over_tol"]) for cid, r in res.items()
            if not r["rate"] and not (r["worst_error_over_tol"] <= 1 / 3 and r["min_control_over_tol"] >= 3)}
    assert not thin, thin


def test_a_descending_seed_range_is_named_as_such():
    from dmf_verify.checks.commands.sweep import parse_seeds
    from dmf_verify.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match=r"--seeds range '5-2' is empty \(its end 2 is below its start 5\)"):
        parse_seeds("5-2")
    assert parse_seeds("3,0-2,2") == [0, 1, 2, 3]
