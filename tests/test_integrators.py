"""The integrators' home: one Solution type, a Status per way of ending, failure times, fail-fast checks."""

from __future__ import annotations

import math
import time

import mpmath
import numpy as np
import pytest

from dmf_verify.errors import (
    BlowUpError,
    IntegrationError,
    InvalidArgument,
    NonFiniteDerivativeError,
    NonFiniteError,
    StalledError,
)
from dmf_verify.numerics.integrators import Solution, Status, integrate_mp, solve


# --- float64 (scipy) ---------------------------------------------------------------------------
def test_solve_success_stores_only_requested_times():
    sol = solve(lambda t, y: -y, [1.0, 2.0], [0.0, 0.5, 1.0], rtol=1e-12, atol=1e-14)
    assert isinstance(sol, Solution) and sol.status is Status.SUCCESSFUL and sol.ok
    assert sol.y.shape == (3, 2) and list(sol.t) == [0.0, 0.5, 1.0]
    assert np.allclose(sol.y[:, 0], np.exp(-sol.t), rtol=1e-11)
    assert sol.t_final == 1.0 and sol.nfev > 0 and sol.stats["steps"] > 0


def test_float64_blowup_is_classified_with_its_time():
    with pytest.raises(BlowUpError) as exc:                     # y = 1/(1 - t)
        solve(lambda t, y: y * y, [1.0], [0.5, 2.0])
    assert abs(exc.value.t - 1.0) < 1e-6                        # the failure time, not 0.5 (last t_eval reached)
    sol = solve(lambda t, y: y * y, [1.0], [0.5, 2.0], throw=False)
    assert sol.status is Status.BLOWUP and list(sol.t) == [0.5] and abs(sol.t_final - 1.0) < 1e-6


def test_blowup_norm_stops_early():
    sol = solve(lambda t, y: y * y, [1.0], [2.0], blowup_norm=100.0, throw=False)
    assert sol.status is Status.BLOWUP and 0.98 < sol.t_final < 1.0


def test_nonfinite_rhs_stops_with_specific_error_and_time():
    def rhs(t, y):
        return -y if t < 0.3 else np.full_like(y, np.nan)
    with pytest.raises(NonFiniteDerivativeError) as exc:
        solve(rhs, [1.0], [0.1, 1.0])
    assert isinstance(exc.value, NonFiniteError) and isinstance(exc.value, IntegrationError)
    assert 0.1 <= exc.value.t <= 0.3


def test_nan_at_start_fails_at_once():
    start = time.process_time()
    with pytest.raises(NonFiniteDerivativeError) as exc:
        solve(lambda t, y: y * np.nan, [1.0], [1.0])
    assert exc.value.t == 0.0 and time.process_time() - start < 1.0


def test_layer_rates_nan_no_longer_hangs():
    from dmf_verify.checks.instances import balanced_instance, sensing_loss
    from dmf_verify.numerics.flow import integrate_factor_flow

    fs = balanced_instance((3, 3), 3, seed=0)
    loss = sensing_loss((3, 3), 4, seed=0)
    start = time.process_time()
    with pytest.raises(NonFiniteError, match="layer_rates"):
        integrate_factor_flow(loss, fs, [0.0, 1.0], layer_rates=[1.0, math.nan, 1.0])
    with pytest.raises(InvalidArgument, match="layer_rates"):
        integrate_factor_flow(loss, fs, [0.0, 1.0], layer_rates=[1.0, 1.0])
    assert time.process_time() - start < 1.0


@pytest.mark.parametrize("kwargs", [{"rtol": math.nan}, {"atol": -1.0}, {"rtol": "tight"}, {"max_norm": math.inf},
                                    {"method": "Euler"}, {"max_steps": 0}, {"time_limit": -1},
                                    {"t_eval": [1.0, 0.5]}, {"t_eval": [math.nan]}, {"t_eval": []},
                                    {"y0": [math.nan]}, {"blowup_norm": 0.0}])
def test_bad_options_are_refused(kwargs):
    args = {"y0": [1.0], "t_eval": [1.0]} | kwargs
    y0, t_eval = args.pop("y0"), args.pop("t_eval")
    with pytest.raises(InvalidArgument):
        solve(lambda t, y: -y, y0, t_eval, **args)


def test_norm_event_time_and_state():
    sol = solve(lambda t, y: y, [1.0], [0.5, 3.0], max_norm=math.e, rtol=1e-12, atol=1e-14)
    assert sol.status is Status.EVENT and sol.ok
    assert abs(sol.t_final - 1.0) < 1e-9 and abs(sol.y_final[0] - math.e) < 1e-9 and list(sol.t) == [0.5]


def test_budgets():
    sol = solve(lambda t, y: [y[1], -y[0]], [0.0, 1.0], [1000.0], max_steps=5, throw=False)
    assert sol.status is Status.MAX_STEPS and 0 < sol.t_final < 1000
    with pytest.raises(IntegrationError, match="max_steps"):
        sol.raise_for_status()


# --- mpmath (GBS) ----------------------------------------------------------------------------
def test_mp_solution_type_and_stats():
    sol = integrate_mp(lambda t, y: [-y[0]], ["1"], ["0.5", "1"], digits=30)
    assert isinstance(sol, Solution) and sol.status is Status.SUCCESSFUL
    assert sol.stats["dps"] == 40 and sol.stats["digits"] == 30 and sol.method == "GBS"
    with mpmath.workdps(50):
        assert abs(sol.y[-1][0] - mpmath.exp(-1)) < mpmath.mpf(10) ** -30


@pytest.mark.parametrize("leak", ["y", "t", "one_component"])
def test_float_leak_into_mp_fails_fast(leak):
    """A float64 value inside the mp right-hand side: STALLED within a second instead of minutes."""
    rhs = {"y": lambda t, y: [mpmath.mpf(float(-y[0]))],
           "t": lambda t, y: [-y[0] * mpmath.mpf(float(mpmath.cos(t + 1)))],
           "one_component": lambda t, y: [y[1], mpmath.mpf(float(-y[0]))]}[leak]
    y0 = ["0.3", "1"] if leak == "one_component" else ["1"]
    start = time.process_time()
    with pytest.raises(StalledError, match="float"):
        integrate_mp(rhs, y0, ["1"], digits=30)
    assert time.process_time() - start < 2.0
    sol = integrate_mp(rhs, y0, ["1"], digits=30, throw=False)
    assert sol.status is Status.STALLED and float(sol.t_final) < 1.0


def test_float_leak_found_later_by_the_rejection_probe():
    """cos is even at t = 0, so the first probe cannot see the t-leak; the rejection streak probe does."""
    start = time.process_time()
    with pytest.raises(StalledError):
        integrate_mp(lambda t, y: [-y[0] * mpmath.mpf(float(mpmath.cos(t)))], ["1"], ["1"], digits=30)
    assert time.process_time() - start < 10.0


def test_mp_nonfinite_and_blowup_errors_carry_the_time():
    with pytest.raises(NonFiniteDerivativeError) as exc:
        integrate_mp(lambda t, y: [mpmath.nan if t > mpmath.mpf("0.4") else -y[0]], ["1"], ["1"], digits=20)
    assert 0.0 < exc.value.t <= 1.0
    with pytest.raises(BlowUpError) as exc:
        integrate_mp(lambda t, y: [y[0] * y[0]], ["1"], ["0.5", "2"], digits=20, max_abs="1e8")
    assert 0.999 < exc.value.t <= 1.0


def test_probe_does_not_flag_honest_right_hand_sides():
    """Smooth rhs with zero derivative components, t-only or y-free terms, and N = 2 Lemma 4's |x|."""
    from dmf_verify.numerics import scalar_ode as so

    cases = [(lambda t, y: [mpmath.mpf(1)], ["0"]),
             (lambda t, y: [y[0] * y[0]], ["0"]),
             (lambda t, y: [mpmath.cos(t)], ["0"]),
             (lambda t, y: [y[1], -y[0]], ["0", "1"]),
             (so.rhs_mp(2, so.cosine("0.3", "0.5", "2")), ["-0.4"])]
    for rhs, y0 in cases:
        assert integrate_mp(rhs, y0, ["0.5"], digits=30).status is Status.SUCCESSFUL
