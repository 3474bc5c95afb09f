"""Minimum nuclear norm solutions: cvxpy/SCS for general sensing and completion, and an LP on
eigenvalues for commuting symmetric measurements (Arora et al. 2019, Theorem 2 and its proof in Appendix B.1).

Feasible sets (always stated explicitly):

* ``psd=False``: {W in R^{d x d'} : <A_i, W> = y_i}, minimize ||W||_* = sum of singular values;
* ``psd=True``:  {W symmetric PSD : <A_i, W> = y_i}, minimize ||W||_* = trace(W).

Formulations
------------
* Sensing: cvxpy ``normNuc(W)`` (or ``trace(W)`` over a PSD variable), constraint
  ``A_flat @ vec(W) = y``.
* Completion: the semidefinite characterization
  ||W||_* = min { (tr P + tr Q)/2 : [[P, W], [W^T, Q]] >= 0 } written directly on ONE PSD
  variable Z of size (d + d'), with the observed entries pinned by a sparse selection of vec(Z).
  This avoids cvxpy's generic ``normNuc`` canonicalization (an extra d x d' variable and m
  dense equality rows) and is what makes the 100 x 100, m = 2000 case practical.
* Commuting symmetric A_i = V diag(lambda_i) V^T: W may be taken symmetric (symmetrizing keeps
  <A_i, W> and does not raise ||W||_*) and diagonal in the basis V (pinching keeps the
  constraints and PSD-ness and does not raise the nuclear norm), so the problem is the LP
  min ||x||_1 s.t. Lambda x = y (plus x >= 0 with the PSD restriction), solved by HiGHS.

Every solve reports the primal residual max_i |<A_i, W> - y_i| / max(1, ||y||_inf) and a
*certified* duality gap: the equality-constraint multipliers are rescaled into the dual
feasible set ({lambda : ||A^*(lambda)||_op <= 1}, resp. {lambda_max(sym A^*(lambda)) <= 1}),
which gives a valid lower bound on the optimum, and the gap is ||W||_* minus that bound
(it can be slightly negative by the order of the primal residual).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from dmf_verify.errors import InvalidArgument, ShapeError, SolverError
from dmf_verify.numerics.validation import (
    as_finite_array,
    as_matrix,
    as_real_array,
    check_bool,
    check_int,
    check_positive,
    check_seed,
    check_tolerance,
)

__all__ = [
    "NuclearNormResult",
    "joint_eigenbasis",
    "measurement_operator",
    "min_frobenius_norm",
    "min_nuclear_norm",
    "min_nuclear_norm_commuting",
    "min_nuclear_norm_commuting_matrices",
    "random_commuting_sensing",
]


@dataclass
class NuclearNormResult:
    """Outcome of a minimum nuclear norm solve.

    ``W`` is the minimizer (for :func:`min_nuclear_norm_commuting` it is diag(x) in the shared
    eigenbasis and ``eigenvalues`` holds x); ``nuclear_norm`` is computed from ``W`` (singular
    values), not copied from the solver; ``primal_residual`` is max_i |<A_i,W> - y_i| /
    max(1, ||y||_inf); ``duality_gap`` is ||W||_* minus a certified dual lower bound (None when
    the solver gave no multipliers).
    """

    W: np.ndarray
    nuclear_norm: float
    status: str
    primal_residual: float
    duality_gap: float | None
    solver: str
    seconds: float
    psd: bool = False
    eigenvalues: np.ndarray | None = None
    solver_iterations: int | None = None
    dual: np.ndarray | None = None  # equality multipliers (LP: HiGHS marginals, dual objective y @ dual)


# --------------------------------------------------------------------------------------------
# measurement operators
# --------------------------------------------------------------------------------------------
class _Operator:
    """A(W) = (<A_i, W>)_i and its adjoint, for sensing (dense) or completion (entries)."""

    def __init__(self, loss):
        from dmf_verify.numerics.losses import CompletionLoss, SensingLoss

        if isinstance(loss, SensingLoss):
            self.kind = "sensing"
            self.flat = loss.flat
            self.y = loss.y
        elif isinstance(loss, CompletionLoss):
            self.kind = "completion"
            self.rows, self.cols = loss.rows, loss.cols
            self.y = loss.values
        else:
            raise InvalidArgument(
                f"loss must be a SensingLoss or CompletionLoss, got {type(loss).__name__}")
        self.shape = tuple(loss.shape)

    def apply(self, w: np.ndarray) -> np.ndarray:
        if self.kind == "sensing":
            return self.flat @ w.reshape(-1)
        return w[self.rows, self.cols]

    def adjoint(self, lam: np.ndarray) -> np.ndarray:
        if self.kind == "sensing":
            return (lam @ self.flat).reshape(self.shape)
        g = np.zeros(self.shape)
        g[self.rows, self.cols] = lam
        return g


def measurement_operator(loss) -> _Operator:
    """The linear map W -> (<A_i, W>)_i of a sensing or completion loss (with ``.adjoint``)."""
    return _Operator(loss)


def _primal_residual(op: _Operator, w: np.ndarray) -> float:
    r = op.apply(w) - op.y
    return float(np.max(np.abs(r)) / max(1.0, float(np.max(np.abs(op.y)))))


def _dual_bound(op: _Operator, lam: np.ndarray | None, psd: bool) -> float | None:
    """A certified lower bound on the optimum from (either sign of) the multipliers lam."""
    if lam is None:
        return None
    lam = np.asarray(lam, dtype=float).reshape(-1)
    if lam.size != op.y.size or not np.all(np.isfinite(lam)):
        return None
    best = 0.0  # ||W||_* >= 0 always
    for s in (1.0, -1.0):
        l = s * lam
        m = op.adjoint(l)
        if psd:
            scale = float(np.linalg.eigvalsh(0.5 * (m + m.T))[-1])
        else:
            scale = float(np.linalg.norm(m, 2))
        val = float(op.y @ l)
        if scale > 0:
            best = max(best, val / scale)
    return best


def _nuclear(w: np.ndarray) -> float:
    return float(np.sum(np.linalg.svd(w, compute_uv=False)))


def _check_consistent(op: _Operator) -> None:
    """Raise SolverError(status='infeasible') when A(W) = y has no solution at all."""
    if op.kind != "sensing":
        return  # distinct observed entries: always consistent without the PSD restriction
    sol, *_ = np.linalg.lstsq(op.flat, op.y, rcond=None)
    res = float(np.linalg.norm(op.flat @ sol - op.y))
    scale = max(1.0, float(np.linalg.norm(op.y)))
    if res > 1e-8 * scale:
        raise SolverError(
            f"the measurements are inconsistent: no W satisfies <A_i, W> = y_i "
            f"(least-squares residual {res:.3e} > {1e-8 * scale:.1e}; linearly dependent A_i with "
            f"incompatible y)", status="infeasible")


_OK = ("optimal",)


def min_nuclear_norm(loss, *, psd: bool = False, eps: float = 1e-9, max_iters: int = 100000,
                     solver: str = "SCS", allow_inaccurate: bool = False,
                     verbose: bool = False) -> NuclearNormResult:
    """Minimize ||W||_* over {W : <A_i, W> = y_i} (and W symmetric PSD when ``psd``).

    ``loss`` is a :class:`dmf_verify.numerics.losses.SensingLoss` or
    :class:`dmf_verify.numerics.losses.CompletionLoss` (only its measurements are used, not its scaling).
    ``eps`` is SCS's eps_abs = eps_rel (Clarabel: tol_gap_abs/rel and tol_feas), ``max_iters``
    its iteration cap. A status other than ``optimal`` (infeasible, unbounded, inaccurate,
    iteration limit, solver failure) raises :class:`SolverError` with ``status`` set, unless
    ``allow_inaccurate`` accepts ``optimal_inaccurate`` (the result's ``status`` says so).
    """
    import cvxpy as cp
    import scipy.sparse as sps

    op = _Operator(loss)
    psd, allow_inaccurate, verbose = (check_bool(v, n) for v, n in ((psd, "psd"), (allow_inaccurate, "allow_inaccurate"),
                                                                    (verbose, "verbose")))
    eps = check_positive(eps, "eps")
    if isinstance(max_iters, bool) or not isinstance(max_iters, (int, np.integer)) or max_iters < 1:
        raise InvalidArgument(f"max_iters must be a positive integer, got {max_iters!r}")
    solver = str(solver).upper()
    if solver not in ("SCS", "CLARABEL"):
        raise InvalidArgument(f"solver must be 'SCS' or 'CLARABEL', got {solver!r}")
    d, dp = op.shape
    if psd and d != dp:
        raise ShapeError(f"the PSD restriction needs a square matrix, got shape {op.shape}")
    _check_consistent(op)

    m = op.y.size
    if op.kind == "completion":
        if psd:
            z = cp.Variable((d, d), PSD=True)
            n = d
            idx = op.rows + op.cols * n  # column-major vec index
            objective = cp.trace(z)
        else:
            n = d + dp
            z = cp.Variable((n, n), PSD=True)
            idx = op.rows + (d + op.cols) * n
            objective = 0.5 * cp.trace(z)
        sel = sps.csr_matrix((np.ones(m), (np.arange(m), idx)), shape=(m, n * n))
        cons = [sel @ cp.vec(z, order="F") == op.y]
        prob = cp.Problem(cp.Minimize(objective), cons)
        extract = (lambda: z.value) if psd else (lambda: z.value[:d, d:])
    else:
        if psd:
            w = cp.Variable((d, d), PSD=True)
            objective = cp.trace(w)
        else:
            w = cp.Variable((d, dp))
            objective = cp.normNuc(w)
        cons = [op.flat @ cp.vec(w, order="C") == op.y]
        prob = cp.Problem(cp.Minimize(objective), cons)
        def extract():
            return w.value

    if solver == "SCS":
        opts = {"eps_abs": eps, "eps_rel": eps, "max_iters": int(max_iters)}
    else:
        opts = {"tol_gap_abs": eps, "tol_gap_rel": eps, "tol_feas": eps, "max_iter": int(max_iters)}
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():  # cvxpy warns on inaccurate solutions; we raise or report the status
            warnings.simplefilter("ignore", UserWarning)
            prob.solve(solver=solver, verbose=verbose, **opts)
    except cp.error.SolverError as exc:
        raise SolverError(f"{solver} failed on the minimum nuclear norm problem: {exc}",
                          status="solver_error") from exc
    seconds = time.perf_counter() - start
    status = str(prob.status)
    accepted = _OK + (("optimal_inaccurate",) if allow_inaccurate else ())
    if status not in accepted:
        raise SolverError(
            f"{solver} returned status {status!r} for the minimum nuclear norm problem "
            f"({'PSD' if psd else 'all'} {d}x{dp} matrices, {m} measurements, eps={eps:g}, "
            f"max_iters={max_iters}); accepted: {accepted}", status=status)
    wv = np.asarray(extract(), dtype=float)
    if psd:
        wv = 0.5 * (wv + wv.T)
    lam = cons[0].dual_value
    bound = _dual_bound(op, lam, psd)
    nuc = _nuclear(wv)
    n_it = getattr(prob.solver_stats, "num_iters", None)
    iters = int(n_it) if n_it is not None else None
    return NuclearNormResult(W=wv, nuclear_norm=nuc, status=status,
                             primal_residual=_primal_residual(op, wv),
                             duality_gap=None if bound is None else nuc - bound,
                             solver=solver, seconds=seconds, psd=psd, solver_iterations=iters)


# --------------------------------------------------------------------------------------------
# commuting symmetric measurements: an LP on eigenvalues
# --------------------------------------------------------------------------------------------
def joint_eigenbasis(a, *, tol: float = 1e-9, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shared orthonormal eigenbasis V of symmetric, pairwise commuting A_i (shape (m, d, d)).

    Returns (V, lam) with A_i = V diag(lam[i]) V^T. Raises :class:`InvalidArgument` naming the
    offending index when some A_i is not symmetric or two of them do not commute (relative to
    ``tol``).
    """
    a = as_real_array(a, "a (the measurement matrices A)")
    tol = check_tolerance(tol, "tol")
    seed = check_seed(seed)
    if a.ndim != 3 or a.shape[1] != a.shape[2]:
        raise ShapeError(f"A must have shape (m, d, d) with square A_i, got {a.shape}")
    m, d, _ = a.shape
    scale = max(1.0, float(np.max(np.abs(a))))
    for i in range(m):
        asym = float(np.max(np.abs(a[i] - a[i].T)))
        if asym > tol * scale:
            raise InvalidArgument(
                f"measurement matrix A_{i} is not symmetric (max |A - A^T| = {asym:.3e} > {tol * scale:.1e}); "
                "the eigenvalue LP needs symmetric commuting measurements")
    for i in range(m):
        for j in range(i + 1, m):
            c = float(np.max(np.abs(a[i] @ a[j] - a[j] @ a[i])))
            lim = tol * scale * scale * d
            if c > lim:
                raise InvalidArgument(
                    f"measurement matrices A_{i} and A_{j} do not commute (max |A_i A_j - A_j A_i| = {c:.3e} "
                    f"> {lim:.1e}); they are not simultaneously diagonalizable, so the eigenvalue LP does not "
                    "apply (use min_nuclear_norm)")
    rng = np.random.default_rng(seed)
    coef = rng.standard_normal(m)
    _, v = np.linalg.eigh(np.tensordot(coef, a, axes=1))
    lam = np.einsum("ki,mkl,li->mi", v, a, v)
    off = max(float(np.max(np.abs(v.T @ a[i] @ v - np.diag(lam[i])))) for i in range(m))
    if off > 1e3 * tol * scale * d:
        raise InvalidArgument(
            f"could not diagonalize the A_i simultaneously (off-diagonal residue {off:.3e}); "
            "they are not (numerically) commuting")
    return v, lam


def min_nuclear_norm_commuting(eigenvalues: np.ndarray, y: np.ndarray, *, psd: bool) -> NuclearNormResult:
    """LP for commuting symmetric measurements A_i = V diag(eigenvalues[i]) V^T.

    Minimizes ||x||_1 subject to eigenvalues @ x = y (and x >= 0 when ``psd``) with HiGHS; the
    result's ``W`` is diag(x) (the minimizer in the shared eigenbasis), ``eigenvalues`` is x,
    ``duality_gap`` is the primal minus the dual objective from HiGHS's multipliers.
    Infeasible constraints raise :class:`SolverError` (status 'infeasible').
    """
    from scipy.optimize import linprog

    lam = as_matrix(eigenvalues, "eigenvalues")
    psd = check_bool(psd, "psd")
    y = as_finite_array(y, "y").reshape(-1)
    m, d = lam.shape
    if y.size != m:
        raise ShapeError(f"y has {y.size} entries but there are {m} measurements")
    if not psd:
        sol, *_ = np.linalg.lstsq(lam, y, rcond=None)
        res = float(np.linalg.norm(lam @ sol - y))
        if res > 1e-8 * max(1.0, float(np.linalg.norm(y))):
            raise SolverError(f"the measurements are inconsistent (least-squares residual {res:.3e}); "
                              "no matrix fits them", status="infeasible")
        c = np.ones(2 * d)
        a_eq = np.hstack([lam, -lam])
    else:
        c = np.ones(d)
        a_eq = lam
    start = time.perf_counter()
    res = linprog(c, A_eq=a_eq, b_eq=y, bounds=(0, None), method="highs")
    seconds = time.perf_counter() - start
    names = {0: "optimal", 1: "iteration_limit", 2: "infeasible", 3: "unbounded", 4: "numerical_difficulties"}
    status = names.get(res.status, f"status_{res.status}")
    if res.status != 0:
        raise SolverError(f"HiGHS: the eigenvalue LP ({'PSD' if psd else 'symmetric'}, d={d}, m={m}) "
                          f"ended with {status}: {res.message}", status=status)
    x = res.x[:d] - res.x[d:] if not psd else res.x.copy()
    dual = float(y @ res.eqlin.marginals)
    nuc = float(np.sum(np.abs(x)))
    resid = float(np.max(np.abs(lam @ x - y)) / max(1.0, float(np.max(np.abs(y)))))
    return NuclearNormResult(W=np.diag(x), nuclear_norm=nuc, status=status, primal_residual=resid,
                             duality_gap=nuc - dual, solver="HiGHS-LP", seconds=seconds, psd=psd,
                             eigenvalues=x, solver_iterations=int(getattr(res, "nit", 0) or 0),
                             dual=np.asarray(res.eqlin.marginals, dtype=float))


def min_nuclear_norm_commuting_matrices(a, y, *, psd: bool, tol: float = 1e-9) -> NuclearNormResult:
    """Same as :func:`min_nuclear_norm_commuting` from the matrices A_i themselves.

    Finds the shared eigenbasis (raising on non-symmetric or non-commuting input) and returns
    ``W = V diag(x) V^T`` in the original coordinates.
    """
    check_bool(psd, "psd")
    v, lam = joint_eigenbasis(a, tol=tol)
    r = min_nuclear_norm_commuting(lam, y, psd=psd)
    x = r.eigenvalues
    r.W = (v * x) @ v.T
    return r


def min_frobenius_norm(loss) -> np.ndarray:
    """The minimum Frobenius norm W with <A_i, W> = y_i (pseudo-inverse; used by controls)."""
    op = _Operator(loss)
    _check_consistent(op)
    if op.kind == "completion":
        w = np.zeros(op.shape)
        w[op.rows, op.cols] = op.y
        return w
    sol, *_ = np.linalg.lstsq(op.flat, op.y, rcond=None)
    return sol.reshape(op.shape)


def random_commuting_sensing(d: int, m: int, *, seed: int = 0, spectrum=None):
    """Commuting symmetric sensing: A_i = V diag(lambda_i) V^T with a Haar-random orthogonal V
    shared by all i and lambda_i ~ N(0, I_d); y_i = <A_i, W_gt> for the PSD ground truth
    W_gt = V diag(spectrum) V^T (default: spectrum ~ U(0.5, 1.5)^d, full rank, so the minimum
    nuclear norm solution is a generic, non-degenerate LP vertex).

    Returns (loss, V, lam, W_gt) with ``loss`` a 1/2-sum :class:`SensingLoss`.
    """
    from dmf_verify.numerics.losses import SensingLoss

    d, m = check_int(d, "d", low=1), check_int(m, "m", low=1)
    rng = np.random.default_rng(check_seed(seed))
    v, r = np.linalg.qr(rng.standard_normal((d, d)))
    v = v * np.sign(np.diag(r))
    lam = rng.standard_normal((m, d))
    a = np.einsum("ik,mk,jk->mij", v, lam, v)
    a = 0.5 * (a + a.transpose(0, 2, 1))
    x = rng.uniform(0.5, 1.5, d) if spectrum is None else as_finite_array(spectrum, "spectrum")
    if x.shape != (d,):
        raise ShapeError(f"spectrum must have {d} entries, got shape {x.shape}")
    gt = (v * x) @ v.T
    y = np.einsum("mij,ij->m", a, gt)
    return SensingLoss(a, y, reduction="sum", half=True), v, lam, gt
