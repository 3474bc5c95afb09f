"""Falsification targets for ``dmf-verify falsify``: small measurement functions, public APIs only.

Each :class:`Target` has a hypothesis strategy of readable instance recipes and a ``measure``
returning (error, details); ``dmf-verify falsify`` maximizes the error with
``hypothesis.target`` and prints the worst instance. An error above the target's
``tolerance`` is a counterexample *to the measurement as set up* (the formula, or the
resolution of the numerical check): the details say which.

Targets
-------
``theorem3.crossing``  Theorem 3 (eq. 7) vs a Richardson-extrapolated 5-point finite difference
                       of the sorted singular values along the integrated flow (spacing from
                       crossing_spacing), started with two singular values a relative gap
                       10^-6..10^-1 apart (a near crossing).
``theorem3.fixed_h``   the claim's own check (plain 5-point FD at h = 2e-3) on the same instances.
``theorem3.tangent``   Theorem 3 vs the exact tangent u_r^T (dW/dt) v_r, dW/dt summed from the
                       factor velocities (no balancedness assumed): the formula itself.
``lemma2.crossing``    Lemma 2 (eqs. 8-9, dmf_verify.numerics.singular_vectors.lemma2_rates) vs 5-point
                       Richardson-extrapolated finite differences of the sign-aligned U, V near a
                       crossing, spacing scaled to the gap (h from crossing_spacing).
``conjecture1.gap``    Conjecture 1 on small completion instances: relative gap
                       (||W_GD||_* - min ||W||_*) / min ||W||_* between GD's limit (depth 2-3,
                       small balanced init) and the minimum nuclear norm completion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from hypothesis import strategies as st

H_THEOREM3 = 2e-3


@dataclass(frozen=True)
class Target:
    name: str
    claims: tuple[str, ...]
    description: str
    strategy: Callable[[], st.SearchStrategy]
    measure: Callable[[object], tuple[float, dict]]
    tolerance: float
    tolerance_reason: str


# --------------------------------------------------------------------------------------------
# near-crossing instances (Theorem 3 / Lemma 2)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NearCrossing:
    """Balanced depth-N factors whose product has sigma_1 = 1 + gap, sigma_2 = 1 (gap = 10^log10_gap),
    further values 0.5, 0.25, ...; sensing loss with m measurements of a rank-1 target."""

    depth: int
    shape: tuple[int, int]
    log10_gap: float
    m: int
    seed: int = 0

    @property
    def gap(self) -> float:
        return 10.0 ** self.log10_gap

    @cached_property
    def loss(self):
        from dmf_verify.checks.strategies import SensingProblem

        return SensingProblem(shape=self.shape, m=self.m, rank=1, seed=self.seed).loss

    @cached_property
    def factors(self):
        from dmf_verify.checks.strategies import BalancedFactorization

        k = min(self.shape)
        spec = (1.0 + self.gap, 1.0) + tuple(0.5 ** i for i in range(1, k - 1))
        return BalancedFactorization(self.depth, self.shape, spec, seed=self.seed + 101).factors


@st.composite
def near_crossings(draw) -> NearCrossing:
    d = draw(st.integers(2, 4))
    dp = draw(st.integers(2, 4))
    return NearCrossing(depth=draw(st.integers(2, 4)), shape=(d, dp),
                        log10_gap=draw(st.floats(-6.0, -1.0).map(lambda x: round(x, 2))),
                        m=draw(st.integers(2, 2 * d * dp)), seed=draw(st.integers(0, 2**16 - 1)))


def _window(inst: NearCrossing, h: float):
    from dmf_verify.numerics.flow import integrate_factor_flow

    times = h * np.arange(5)
    return integrate_factor_flow(inst.loss, inst.factors, times, rtol=1e-12, atol=1e-14)


def crossing_spacing(inst: NearCrossing) -> float:
    """h = min(2e-3, 0.02 / omega, 0.02 gap_abs / closing), all measured at t = 0.

    Near a crossing the singular vectors rotate at omega = max(|dU/dt|, |dV/dt|) (Lemma 2) and
    the gap sigma_1 - sigma_2 closes at ``closing`` = |d(sigma_1 - sigma_2)/dt| (Theorem 3). The
    spacing keeps the rotation per step <= 0.02 rad and the 4h window well inside the time the
    gap needs to close, so the sorted SVD does not swap columns inside the stencil.
    """
    from dmf_verify.numerics.model import product
    from dmf_verify.numerics.rates import singular_value_rates
    from dmf_verify.numerics.singular_vectors import lemma2_rates_at

    w = product(inst.factors)
    g = inst.loss.gradient(w)
    _, s, _, du, dv = lemma2_rates_at(w, g, inst.depth)
    omega = max(float(np.linalg.norm(du)), float(np.linalg.norm(dv)), 1e-300)
    _, rates = singular_value_rates(w, g, inst.depth)
    closing = max(abs(float(rates[0] - rates[1])), 1e-300)
    return min(H_THEOREM3, 0.02 / omega, 0.02 * float(s[0] - s[1]) / closing)


def _richardson_window(inst: NearCrossing, h: float):
    """States at 2h + h*[-2..2] and 2h + (h/2)*[-2..2] from one integration."""
    from dmf_verify.numerics.flow import integrate_factor_flow

    times = h * np.array([0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0])
    sol = integrate_factor_flow(inst.loss, inst.factors, times, rtol=1e-12, atol=1e-14)
    p = sol.products
    return p[[0, 1, 3, 5, 6]], p[[1, 2, 3, 4, 5]]


def _richardson(values_h, values_h2, h):
    """(16 D_(h/2) - D_h) / 15 for the 5-point stencil (error O(h^6))."""
    from dmf_verify.numerics.rates import five_point_derivative

    d1 = five_point_derivative(np.asarray(values_h), h)
    d2 = five_point_derivative(np.asarray(values_h2), h / 2)
    return (16 * d2 - d1) / 15, d1, d2


def measure_theorem3_fixed_h(inst: NearCrossing) -> tuple[float, dict]:
    """The claim's own check (5-point FD of sorted singular values, h = 2e-3) near a crossing."""
    from dmf_verify.numerics.rates import five_point_derivative, singular_value_rates

    sol = _window(inst, H_THEOREM3)
    sig = np.array([np.linalg.svd(w, compute_uv=False) for w in sol.products])
    fd = five_point_derivative(sig, H_THEOREM3)
    mid = sol.products[2]
    s, rate = singular_value_rates(mid, inst.loss.gradient(mid), inst.depth)
    err = float(np.max(np.abs(fd - rate)) / max(np.max(np.abs(rate)), 1e-300))
    return err, {"relative gap at t=2h": float((s[0] - s[1]) / s[0]), "h": H_THEOREM3,
                 "fd": fd.tolist(), "formula": rate.tolist()}


def measure_theorem3_crossing(inst: NearCrossing) -> tuple[float, dict]:
    """Theorem 3 vs Richardson-extrapolated FD of the sorted singular values, h scaled to the gap."""
    from dmf_verify.numerics.rates import singular_value_rates

    h = crossing_spacing(inst)
    a, b = _richardson_window(inst, h)
    sv = lambda ws: np.array([np.linalg.svd(w, compute_uv=False) for w in ws])  # noqa: E731
    fd, d1, d2 = _richardson(sv(a), sv(b), h)
    mid = a[2]
    s, rate = singular_value_rates(mid, inst.loss.gradient(mid), inst.depth)
    scale = max(np.max(np.abs(rate)), 1e-300)
    err = float(np.max(np.abs(fd - rate)) / scale)
    return err, {"relative gap at t=2h": float((s[0] - s[1]) / s[0]), "h": h,
                 "error of plain 5-point at h/2": float(np.max(np.abs(d2 - rate)) / scale)}


def _velocity(factors, grad):
    """dW/dt = -sum_j (W_N..W_{j+1}) G_j (W_{j-1}..W_1) with G_j the factor gradients."""
    from dmf_verify.numerics.model import factor_gradients_from, prefix_products, suffix_products

    gs = factor_gradients_from(factors, grad)
    pre, suf = prefix_products(factors), suffix_products(factors)
    out = np.zeros_like(grad)
    for j, g in enumerate(gs):
        x = g
        if pre[j] is not None:
            x = x @ pre[j]
        if suf[j + 1] is not None:
            x = suf[j + 1] @ x
        out -= x
    return out


def measure_theorem3_tangent(inst: NearCrossing) -> tuple[float, dict]:
    from dmf_verify.numerics.model import product
    from dmf_verify.numerics.rates import singular_value_rates
    from dmf_verify.numerics.spectral import svd_sorted

    fs = inst.factors
    w = product(fs)
    g = inst.loss.gradient(w)
    u, s, v = svd_sorted(w)
    tangent = np.einsum("ir,ij,jr->r", u, _velocity(fs, g), v)
    _, rate = singular_value_rates(w, g, inst.depth)
    err = float(np.max(np.abs(tangent - rate)) / max(np.max(np.abs(rate)), 1e-300))
    return err, {"relative gap": float((s[0] - s[1]) / s[0]), "tangent": tangent.tolist(), "formula": rate.tolist()}


def measure_lemma2_crossing(inst: NearCrossing) -> tuple[float, dict]:
    """Lemma 2 vs Richardson-extrapolated FD of the sign-aligned U, V, h scaled to the gap."""
    from dmf_verify.numerics.singular_vectors import lemma2_rates
    from dmf_verify.numerics.spectral import svd_aligned

    h = crossing_spacing(inst)
    a, b = _richardson_window(inst, h)
    mid = a[2]
    u0, s0, v0 = svd_aligned(mid)
    fa = [svd_aligned(w, (u0, v0)) for w in a]
    fb = [svd_aligned(w, (u0, v0)) for w in b]
    fd_u, du1, du2 = _richardson([f[0] for f in fa], [f[0] for f in fb], h)
    fd_v, _, _ = _richardson([f[2] for f in fa], [f[2] for f in fb], h)
    du, dv = lemma2_rates(u0, s0, v0, inst.loss.gradient(mid), inst.depth)
    scale = max(np.linalg.norm(du), np.linalg.norm(dv))
    err = float(max(np.linalg.norm(fd_u - du), np.linalg.norm(fd_v - dv)) / scale)
    return err, {"relative gap at t=2h": float((s0[0] - s0[1]) / s0[0]), "h": h, "|dU/dt|": float(np.linalg.norm(du)),
                 "error of plain 5-point at h/2 (U)": float(np.linalg.norm(du2 - du) / scale)}


# --------------------------------------------------------------------------------------------
# Conjecture 1 on small completion instances
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmallCompletion:
    """Observe m entries of a rank-1 d x d' matrix; GD on depth-N factors (d x d hidden) from a balanced
    init of scale alpha (product spectrum alpha * (1, 0.9, ...)), step eta, until the mean squared
    residual is <= 1e-12 or 200000 steps."""

    shape: tuple[int, int]
    m: int
    depth: int
    alpha: float
    seed: int = 0
    eta: float = 0.2

    @cached_property
    def problem(self):
        from dmf_verify.checks.strategies import CompletionProblem

        return CompletionProblem(shape=self.shape, m=self.m, rank=1, seed=self.seed)


@st.composite
def small_completions(draw) -> SmallCompletion:
    d = draw(st.integers(2, 4))
    dp = draw(st.integers(2, 4))
    m = draw(st.integers(max(d, dp), d * dp - 1))
    return SmallCompletion(shape=(d, dp), m=m, depth=draw(st.integers(2, 3)),
                           alpha=draw(st.sampled_from([1e-2, 3e-2, 1e-3])), seed=draw(st.integers(0, 2**16 - 1)))


def gd_limit(inst: SmallCompletion):
    from dmf_verify.checks.strategies import BalancedFactorization
    from dmf_verify.numerics.descent import gradient_descent

    k = min(inst.shape)
    spec = tuple(1.0 - 0.1 * i for i in range(k))
    init = BalancedFactorization(inst.depth, inst.shape, spec, seed=inst.seed + 3, scale=inst.alpha)
    loss = inst.problem.loss
    return gradient_descent(loss, init.factors, step=inst.eta, steps=200000, tol=1e-12,
                            on_divergence="return")


def measure_conjecture1_gap(inst: SmallCompletion) -> tuple[float, dict]:
    from dmf_verify.numerics.nuclear import min_nuclear_norm
    from dmf_verify.numerics.spectral import nuclear_norm

    res = gd_limit(inst)
    if res.status != "converged":
        return -1.0, {"gd status": res.status, "steps": res.steps, "loss": res.loss}
    loss = inst.problem.loss
    ref = min_nuclear_norm(loss, psd=False, eps=1e-9)
    w = res.product
    gap = (nuclear_norm(w) - ref.nuclear_norm) / ref.nuclear_norm
    gt = inst.problem.ground_truth
    return float(gap), {"||W_GD||_*": nuclear_norm(w), "min ||W||_*": ref.nuclear_norm,
                        "certified duality gap": ref.duality_gap, "gd steps": res.steps,
                        "||W_GD - W*||_F/||W*||_F": float(np.linalg.norm(w - gt) / np.linalg.norm(gt)),
                        "singular values of W_GD": np.round(np.linalg.svd(w, compute_uv=False), 6).tolist(),
                        "observed": sorted(zip(loss.rows.tolist(), loss.cols.tolist()))}


TARGETS: dict[str, Target] = {t.name: t for t in [
    Target("theorem3.crossing", ("arora2019.theorem3",),
           "Theorem 3 vs Richardson-extrapolated 5-point FD (h from crossing_spacing) of the sorted singular "
           "values, near a crossing", near_crossings, measure_theorem3_crossing, 1e-3,
           "integrator noise in the FD <~ 2 rtol/h relative (rtol 1e-12): <= 7e-4 for the smallest spacing used, "
           "h ~ 3e-9 at gap 1e-6 (measured far below: a short window takes few, accurate steps); "
           "Richardson truncation O((h omega)^6) ~ 1e-10"),
    Target("theorem3.fixed_h", ("arora2019.theorem3",),
           "the claim's own check (5-point FD, h = 2e-3) near a crossing: how far its resolution reaches",
           near_crossings, measure_theorem3_fixed_h, 1e-6,
           "the claim arora2019.theorem3's tolerance for the same FD check"),
    Target("theorem3.tangent", ("arora2019.theorem3",),
           "Theorem 3 vs the exact tangent u_r^T dW/dt v_r, near a crossing",
           near_crossings, measure_theorem3_tangent, 1e-10,
           "both sides in float64 from one SVD: relative rounding ~1e2 eps times the conditioning"),
    Target("lemma2.crossing", ("arora2019.lemma2",),
           "Lemma 2 (eqs. 8-9) vs Richardson-extrapolated 5-point FD of aligned U, V (h from crossing_spacing), "
           "near a crossing", near_crossings, measure_lemma2_crossing, 1e-3,
           "FD noise ~ rtol |U|/(gap h) against |dU/dt| ~ 1/gap gives <~ 2 rtol/h <= 7e-4 at the smallest spacing "
           "(h ~ 3e-9, gap 1e-6); Richardson truncation O((h omega)^6) ~ 1e-10"),
    Target("conjecture1.gap", ("arora2019.conjecture1.counterevidence", "arora2019.fig8.not_nuclear"),
           "relative gap between GD's nuclear norm and the minimum, small completion instances",
           small_completions, measure_conjecture1_gap, 1e-3,
           "GD stops at mean squared residual 1e-12 (entries off by ~1e-6) and the SDP solves to eps 1e-9 "
           "with a certified duality gap; a relative gap above 1e-3 is not numerical"),
]}


def resolve(name: str) -> list[Target]:
    """Targets by name, or every target attached to a claim id."""
    if name in TARGETS:
        return [TARGETS[name]]
    found = [t for t in TARGETS.values() if name in t.claims]
    if not found:
        from dmf_verify.checks.errors import UnknownClaimError

        raise UnknownClaimError(f"no falsification target {name!r}; targets: {', '.join(TARGETS)} "
                                f"(or a claim id among {sorted({c for t in TARGETS.values() for c in t.claims})})")
    return found
