"""Chou-Gieshoff-Maly-Rauhut (docs/theory.md, docs/chou.md): GD on 1/2 ||W_N...W_1 - A||_F^2, derived symbolically.

Derivations (each a :class:`dmf_verify.theory.derivation.Derivation`, built on demand, sympy only):

* :func:`decoupling` -- GD decouples exactly into scalar recursions w <- w + eta w^(N-1)(lam - w^N):
  for factors sharing A's eigenbasis (W_j = Q D_j Q^T, D_j diagonal, any per-layer D_j), for
  W_j(0) = alpha I, and on the asymmetric SVD path (W_N = U D_N, W_j = D_j, W_1 = D_1 V^T).
* :func:`convergence` -- for eta <= 1/(N lam^(2-2/N)) and 0 < alpha < lam^(1/N), w_k increases
  monotonically to lam^(1/N); the fixed point is linearly stable up to 2/(N lam^(2-2/N)).
* :func:`switch_on_time` -- continuous limit x' = N x^(2-2/N)(lam - x) and its switch-on time in
  closed form for N = 2 and N >= 3.
* :func:`switch_on_bounds` -- explicit two-sided bounds on the discrete switch-on iteration.
* :func:`erank_box_max` -- the calculus fact behind the exact erank enclosure over a box.
"""

from __future__ import annotations

import sympy as sp

from dmf_verify.theory.balancedness import factor_gradients as _grads
from dmf_verify.theory.derivation import Derivation, Label

DEPTHS = (2, 3, 4)


def _prod(fs):
    w = fs[0]
    for f in fs[1:]:
        w = f * w
    return w


def _cayley(t):
    """An exactly orthogonal rational 2x2 rotation (Cayley transform)."""
    c = (1 - t**2) / (1 + t**2)
    s = 2 * t / (1 + t**2)
    return sp.Matrix([[c, -s], [s, c]])


def decoupling() -> Derivation:
    lam = sp.symbols("lambda_1:4", real=True)
    d = Derivation(
        "GD on $\\frac12\\|W_N\\cdots W_1 - A\\|_F^2$ decouples into scalar recursions",
        source="Chou, Gieshoff, Maly & Rauhut, estimation problem (the paper's dynamics of gradient descent)",
        references=("chou2020",),
        assumptions=["$A = Q\\Lambda Q^\\top$ symmetric ($Q$ orthogonal), or $A = U\\Sigma V^\\top$ (SVD path).",
                     ("Checked exactly for depths $N = 2, 3, 4$ with $3\\times3$ diagonal factors (eigen-coordinates) "
                      "and, for the change of basis, with exactly orthogonal rational $2\\times2$ rotations.")],
    )
    d.step("The gradient of $\\phi = \\frac12\\|W_N\\cdots W_1 - A\\|_F^2$ in $W_j$ is $G_j = (W_N\\cdots W_{j+1})^\\top "
           "(W - A)(W_{j-1}\\cdots W_1)^\\top$. If $W_j = Q D_j Q^\\top$ with diagonal $D_j$, every factor of $G_j$ is "
           "diagonal in the basis $Q$, so $G_j = Q\\,\\mathrm{diag}\\big(\\prod_{i\\ne j} w_{i}\\,(\\prod_i w_i - \\lambda)\\big)Q^\\top$ "
           "and $W_j - \\eta G_j$ is again $Q(\\text{diagonal})Q^\\top$: by induction every GD iterate keeps this form.")
    for n in DEPTHS:
        ws = [[sp.Symbol(f"w_{j}{i}", real=True) for i in range(1, 4)] for j in range(1, n + 1)]
        fs = [sp.diag(*w) for w in ws]
        L = sp.diag(*lam)
        grads = _grads(fs, _prod(fs) - L)
        pred = []
        for j in range(n):
            pred.append(sp.diag(*[sp.Mul(*[ws[k][i] for k in range(n) if k != j])
                                  * (sp.Mul(*[ws[k][i] for k in range(n)]) - lam[i]) for i in range(3)]))
        d.prove_zero(f"$N = {n}$: for diagonal factors $G_j = \\mathrm{{diag}}\\big(\\prod_{{i\\ne j}} w_i\\,(\\prod_i w_i - \\lambda)\\big)$, every $j$",
                     sp.Matrix.vstack(*[(g - p).applyfunc(sp.expand) for g, p in zip(grads, pred)]), method="expand")
    t = sp.Symbol("t", real=True)
    Q = _cayley(t)
    d.prove_zero("the Cayley rotation $Q(t)$ is orthogonal, $Q^\\top Q = I$", (Q.T * Q - sp.eye(2)).applyfunc(sp.cancel), method="cancel")
    for n in (2, 3):
        ws = [[sp.Symbol(f"v_{j}{i}", real=True) for i in range(1, 3)] for j in range(1, n + 1)]
        Ds = [sp.diag(*w) for w in ws]
        L = sp.diag(*lam[:2])
        fs = [Q * D * Q.T for D in Ds]
        grads = _grads(fs, _prod(fs) - Q * L * Q.T)
        ref = _grads(Ds, _prod(Ds) - L)
        d.prove_zero(f"$N = {n}$: $G_j(QDQ^\\top) = Q\\,G_j(D)\\,Q^\\top$ (conjugation equivariance, $2\\times2$)",
                     sp.Matrix.vstack(*[(g - Q * r * Q.T).applyfunc(sp.cancel) for g, r in zip(grads, ref)]),
                     method="cancel")
    u, v = sp.symbols("u v", real=True)
    U, V = _cayley(u), _cayley(v)
    for n in (2, 3):
        ws = [[sp.Symbol(f"s_{j}{i}", real=True) for i in range(1, 3)] for j in range(1, n + 1)]
        Ds = [sp.diag(*w) for w in ws]
        S = sp.diag(*lam[:2])
        fs = [Ds[0] * V.T] + Ds[1:-1] + [U * Ds[-1]]
        grads = _grads(fs, _prod(fs) - U * S * V.T)
        ref = _grads(Ds, _prod(Ds) - S)
        shaped = [ref[0] * V.T] + ref[1:-1] + [U * ref[-1]]
        d.prove_zero(f"$N = {n}$: SVD path, $G_1 = G_1(D)V^\\top$, $G_N = UG_N(D)$, $G_j = G_j(D)$ in between",
                     sp.Matrix.vstack(*[(g - r).applyfunc(sp.cancel) for g, r in zip(grads, shaped)]),
                     method="cancel")
    w, lm, eta = sp.symbols("w lambda eta", positive=True)
    N = sp.Symbol("N", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    # equal diagonals w_{j,i} = w: the gradient entry prod_{l != j} w (prod_l w - lambda), symbolic N
    g_entry = sp.Product(w, (i, 1, N - 1)).doit() * (sp.Product(w, (i, 1, N)).doit() - lm)
    update = sp.expand(w - eta * g_entry)
    for n in DEPTHS:
        ws = [sp.Symbol(f"u_{j}", positive=True) for j in range(n)]
        entry = sp.Mul(*ws[1:]) * (sp.Mul(*ws) - lm)     # j = 1; the others by symmetry
        d.prove_zero(f"$N = {n}$: with equal diagonals the update of one entry is the symbolic-$N$ update at $N = {n}$",
                     sp.expand((ws[0] - eta * entry).subs({u: w for u in ws}) - update.subs(N, n)))
    d.step("With $W_j(0) = \\alpha I$ (all $D_j$ equal, $=\\alpha I$) the diagonals stay equal, $w_{j,i} = w_i$; "
           "sympy evaluates the gradient entry $\\prod_{l \\ne j} w\\,(\\prod_l w - \\lambda)$ for symbolic $N$, and "
           "each eigen-direction follows the scalar recursion (end-to-end value $x_k = w_k^N$):",
           d.equation(Label("w_{k+1}"), update))
    d.formula("recursion", (w, lm, eta, N), update, "one GD step of an eigen-direction: w -> w + eta w^(N-1)(lam - w^N)")
    d.step("SVD path: $A = U\\Sigma V^\\top$ (any real $A$, singular values $\\sigma_i \\ge 0$), $W_1(0) = \\alpha V_r^\\top$, "
           "$W_j(0) = \\alpha I_r$ ($1<j<N$), $W_N(0) = \\alpha U_r$: the same recursion with $\\lambda = \\sigma_i$ and "
           "$W_k = U_r\\,\\mathrm{diag}(w_k^N)V_r^\\top$. For symmetric $A$ with $W_j(0) = \\alpha I$, an eigenvalue "
           "$\\lambda < 0$ gives $w_{k+1} < w_k$ while $w_k > 0$: it is never learned (even $N$: $Q\\,\\mathrm{diag}(w^N)Q^\\top "
           "\\succeq 0$ cannot represent it at all).")
    d.set_result(d.equation(Label("w_{k+1}"), update))
    d.prove_zero("the recursion as stated in the paper's setting, $w + \\eta w^{N-1}(\\lambda - w^N)$",
                 sp.expand(update - (w + eta * w ** (N - 1) * (lm - w**N))))
    return d


def convergence() -> Derivation:
    w, mu, eta = sp.symbols("w mu eta", positive=True)
    N = sp.Symbol("N", integer=True, positive=True)
    lam = mu**N  # write lam = mu^N, mu = lam^(1/N) the fixed point
    h = w ** (N - 1) * (lam - w**N)
    f = w + eta * h
    d = Derivation("Monotone convergence of the scalar recursion and the step-size bound",
                   source="Chou, Gieshoff, Maly & Rauhut (convergence of gradient descent)", references=("chou2020",),
                   assumptions=["$N \\ge 2$, $\\lambda = \\mu^N > 0$, $0 < w_0 = \\alpha < \\mu$, $\\eta > 0$."])
    d.step("Write $f(w) = w + \\eta h(w)$, $h(w) = w^{N-1}(\\lambda - w^N)$; $h > 0$ on $(0,\\mu)$ and $f(\\mu) = \\mu$.")
    d.prove_zero("$f(\\mu) = \\mu$", sp.simplify(f.subs(w, mu) - mu))
    g = sp.diff(h, w)
    d.prove_zero("$h'(w) = w^{N-2}((N-1)\\lambda - (2N-1)w^N)$",
                 sp.simplify(g - w ** (N - 2) * ((N - 1) * lam - (2 * N - 1) * w**N)))
    d.prove_zero("$h'(\\mu) = -N\\mu^{2N-2} = -N\\lambda^{2-2/N}$", sp.simplify(g.subs(w, mu) + N * mu ** (2 * N - 2)))
    gp = sp.diff(g, w)
    d.prove_zero("$h''(w) = w^{N-3}((N-1)(N-2)\\lambda - (2N-1)(2N-2)w^N)$",
                 sp.simplify(gp - w ** (N - 3) * ((N - 1) * (N - 2) * lam - (2 * N - 1) * (2 * N - 2) * w**N)))
    d.step("$h''$ changes sign once on $(0,\\infty)$ (from $\\ge 0$ to $<0$), so $h'$ rises then falls and its minimum "
           "on $[0,\\mu]$ is at an end point: $h'(0) \\in \\{0, \\lambda\\} \\ge 0$ and $h'(\\mu) = -N\\lambda^{2-2/N}$. "
           "Hence $f'(w) = 1 + \\eta h'(w) \\ge 1 - \\eta N\\lambda^{2-2/N} \\ge 0$ on $[0,\\mu]$ whenever "
           "$\\eta \\le \\eta^* := 1/(N\\lambda^{2-2/N})$.")
    d.step("Then for $0 < w_k < \\mu$: $w_k < w_k + \\eta h(w_k) = f(w_k) \\le f(\\mu) = \\mu$ ($f$ non-decreasing), with "
           "$f(w_k) < \\mu$ when $f' > 0$ somewhere on $(w_k, \\mu)$ (always: $h'$ vanishes at finitely many points). "
           "The increasing bounded sequence converges to a fixed point in $(0,\\mu]$; the only one is $\\mu$. So "
           "$x_k = w_k^N \\uparrow \\lambda$. For several eigenvalues the condition is $\\eta \\le 1/(N\\lambda_{\\max}^{2-2/N})$.")
    d.step("Sharpness: for $\\eta > \\eta^*$, $f'(\\mu) < 0$, so points just below $\\mu$ are mapped above $\\mu$; an "
           "increasing sequence would converge to $\\mu$ and hence eventually overshoot: monotonicity fails for every "
           "$\\eta > \\eta^*$ (measured by chou.convergence). The fixed point stays linearly stable while $|f'(\\mu)| < 1$:",
           sp.Eq(Label("f'(\\mu)"), 1 - eta * N * mu ** (2 * N - 2)))
    d.result = sp.Eq(Label("\\eta^*"), 1 / (N * sp.Symbol("lambda") ** (2 - 2 / N)))
    return d


def switch_on_time() -> Derivation:
    w, lam, a_ = sp.symbols("w lambda alpha", positive=True)
    N = sp.Symbol("N", integer=True, positive=True)
    a = sp.Symbol("a", positive=True)
    d = Derivation("Continuous-time limit and its switch-on time",
                   source="Chou, Gieshoff, Maly & Rauhut (switch-on times)", references=("chou2020",),
                   assumptions=[("Gradient flow ($\\eta \\to 0$, $t = k\\eta$): $\\dot w = w^{N-1}(\\lambda - w^N)$, "
                                 "$w(0) = \\alpha$, $0 < \\alpha^N < \\theta\\lambda$, $0 < \\theta < 1$.")])
    d.step("End-to-end value $x = w^N$: $\\dot x = N w^{N-1}\\dot w = N w^{2N-2}(\\lambda - w^N) = N x^{2-2/N}(\\lambda - x)$.")
    d.prove_zero("$Nw^{N-1}\\cdot w^{N-1}(\\lambda - w^N) = N(w^N)^{2-2/N}(\\lambda - w^N)$",
                 sp.simplify(N * w ** (N - 1) * w ** (N - 1) * (lam - w**N)
                             - N * sp.powsimp((w**N) ** (2 - 2 / N), force=True) * (lam - w**N)))
    d.step("Switch-on time $T_\\theta = \\int_\\alpha^{w_\\theta} \\frac{dw}{w^{N-1}(\\lambda - w^N)}$, $w_\\theta = (\\theta\\lambda)^{1/N}$.")
    F2 = sp.log(w**2 / (lam - w**2)) / (2 * lam)
    d.prove_zero("$N = 2$: $\\frac{d}{dw}\\frac{\\ln(w^2/(\\lambda - w^2))}{2\\lambda} = \\frac{1}{w(\\lambda - w^2)}$",
                 sp.simplify(sp.diff(F2, w) - 1 / (w * (lam - w**2))))
    th = sp.Symbol("theta", positive=True)
    T2 = sp.log(th * (lam - a_**2) / ((1 - th) * a_**2)) / (2 * lam)
    d.prove_zero("$N = 2$: $F(w_\\theta) - F(\\alpha) = \\frac{1}{2\\lambda}\\ln\\frac{\\theta(\\lambda - \\alpha^2)}{(1-\\theta)\\alpha^2}$",
                 sp.simplify(sp.expand_log(F2.subs(w, sp.sqrt(th * lam)) - F2.subs(w, a_) - T2, force=True)))
    d.step("$N = 2$:", sp.Eq(sp.Symbol("T_theta"), T2))
    d.prove_zero("partial fractions: $\\frac{1}{w^{N-1}(\\lambda - w^N)} = \\frac{1}{\\lambda}\\big(w^{1-N} + \\frac{w}{\\lambda - w^N}\\big)$",
                 sp.simplify(1 / (w ** (N - 1) * (lam - w**N)) - (w ** (1 - N) + w / (lam - w**N)) / lam))
    d.step("For the second part substitute $u = w^N = \\lambda s$: $\\int w\\,dw/(\\lambda - w^N) = \\frac{\\lambda^{2/N-1}}{N}"
           "\\int s^{2/N-1}/(1-s)\\,ds$, an incomplete beta function $B(z; a, 0) = \\int_0^z s^{a-1}(1-s)^{-1}ds = "
           "\\frac{z^a}{a}\\,{}_2F_1(1, a; a+1; z)$, $a = 2/N$ (series $\\sum_k z^{a+k}/(a+k)$, differentiated termwise).")
    k = sp.Symbol("k", integer=True, nonnegative=True)
    d.prove_zero("series: the coefficient of $z^{a+k}$ in $\\frac{z^a}{a}\\,{}_2F_1(1, a; a+1; z)$ is $\\frac{(1)_k(a)_k}{(a+1)_k\\,k!\\,a} = \\frac{1}{a+k}$",
                 sp.gammasimp(sp.rf(1, k) * sp.rf(a, k) / (sp.rf(a + 1, k) * sp.factorial(k) * a) - 1 / (a + k)))
    d.step(r"Termwise, $\frac{d}{dz}\sum_k z^{a+k}/(a+k) = \sum_k z^{a+k-1} = z^{a-1}/(1-z)$ for $0 \le z < 1$, i.e. "
           r"$B'(z) = z^{a-1}/(1-z)$. Chain rule with $z = w^N/\lambda$, $a = 2/N$:")
    zz = w**N / lam
    chain = lam ** (2 / N - 1) / N * zz ** (2 / N - 1) / (1 - zz) * sp.diff(zz, w) - w / (lam - w**N)
    d.prove_zero("$\\frac{d}{dw}\\big[\\frac{\\lambda^{2/N-1}}{N}B(w^N/\\lambda; 2/N, 0)\\big] = \\frac{w}{\\lambda - w^N}$ (symbolic $N$)",
                 sp.simplify(sp.powsimp(sp.expand_power_base(chain, force=True), force=True)))
    wt = sp.Symbol("w_theta", positive=True)
    T3 = (a_ ** (2 - N) - wt ** (2 - N)) / ((N - 2) * lam) + lam ** (2 / N - 2) / N * (
        sp.Function("B")(th) - sp.Function("B")(a_**N / lam))
    d.step("$N \\ge 3$ (with $B(z) = B(z; 2/N, 0)$):", sp.Eq(sp.Symbol("T_theta"), T3))
    d.step("Leading behaviour as $\\alpha \\to 0$: $T_\\theta = \\frac{\\alpha^{2-N}}{(N-2)\\lambda} + O(1)$ for $N \\ge 3$ and "
           "$T_\\theta = \\frac{\\ln(1/\\alpha)}{\\lambda} + O(1)$ for $N = 2$; in iterations $K_\\theta \\approx T_\\theta/\\eta$.")
    d.result = [sp.Eq(Label("T_\\theta^{(N=2)}"), T2), sp.Eq(Label("T_\\theta^{(N\\ge 3)}"), T3)]
    return d


def switch_on_bounds() -> Derivation:
    w, lam, a_, eta, th = sp.symbols("w lambda alpha eta theta", positive=True)
    N = sp.Symbol("N", integer=True, positive=True)
    s, S = sp.symbols("s S", positive=True)
    d = Derivation(
        source="Chou, Gieshoff, Maly & Rauhut (switch-on times); this project's bounds",
        references=("chou2020",),
        title="Two-sided bounds on the discrete switch-on iteration $K_\\theta = \\min\\{k: w_k^N \\ge \\theta\\lambda\\}$",
        assumptions=[("$N \\ge 2$, $\\lambda > 0$, $0 < \\theta < 1$, $0 < \\alpha < w_\\theta = (\\theta\\lambda)^{1/N}$, "
                      "any $\\eta > 0$ (no step-size condition is needed up to $K_\\theta$; "
                      "$\\eta \\le 1/(N\\lambda^{2-2/N})$ is needed only to keep $x_k$ above $\\theta\\lambda$ "
                      "afterwards).")])
    d.step("Notation: $h(u) = u^{N-1}(\\lambda - u^N)$, $F(w) = \\int_\\alpha^w du/h(u)$ (so $T_\\theta = F(w_\\theta)$), "
           "$w_{k+1} - w_k = \\eta h(w_k)$. For $k < K$: $w_k < w_\\theta < \\lambda^{1/N}$, so $h(w_k) > 0$ and the "
           "iterates increase; $K$ is finite since each step adds at least $\\eta h(\\alpha) > 0$ until $w_\\theta$.")
    hp = sp.diff(w ** (N - 1) * (lam - w**N), w)
    d.prove_zero("$h'(w) = w^{N-2}((N-1)\\lambda - (2N-1)w^N)$: $h$ increases up to $w_\\rho$, $\\rho = \\frac{N-1}{2N-1}$, then decreases",
                 sp.simplify(hp - w ** (N - 2) * ((N - 1) * lam - (2 * N - 1) * w**N)))
    d.step("$h$ is unimodal on $(0, \\lambda^{1/N})$ with peak at $w_\\rho = (\\rho\\lambda)^{1/N}$, "
           "$\\rho = (N-1)/(2N-1)$; hence on any interval $\\min h$ sits at an end point. Per step, "
           "$\\Delta_k := F(w_{k+1}) - F(w_k) = \\int_{w_k}^{w_{k+1}} du/h(u)$ lies between "
           "$(w_{k+1}-w_k)/\\max h$ and $(w_{k+1}-w_k)/\\min h$ over the step.")
    d.step("Upper bound. Let $u_p = \\mathrm{clip}(w_\\rho, \\alpha, w_\\theta)$ and $\\Lambda = \\ln(h(u_p)/h(\\alpha))$. "
           "If $h$ increases on the step: $\\Delta_k \\ge \\eta h(w_k)/h(w_{k+1}) = \\eta e^{-(\\ln h(w_{k+1}) - \\ln h(w_k))} "
           "\\ge \\eta(1 - \\ln h(w_{k+1}) + \\ln h(w_k))$; if it decreases: $\\Delta_k \\ge \\eta$; a step across the peak: "
           "$\\Delta_k \\ge \\eta h(w_k)/h(w_\\rho) \\ge \\eta(1 - \\ln h(w_\\rho) + \\ln h(w_k))$. The log terms telescope "
           "to at most $\\Lambda$, so $F(w_{K-1}) \\ge \\eta(K-1) - \\eta\\Lambda$; with $F(w_{K-1}) < T_\\theta$:")
    psi = sp.exp(-s) - (1 - s)
    d.prove_zero("$e^{-s} \\ge 1 - s$: $\\psi(0) = 0$", psi.subs(s, 0))
    d.prove_zero("$\\psi'(s) = 1 - e^{-s}$ ($\\ge 0$ for $s \\ge 0$, $\\le 0$ for $s \\le 0$)", sp.diff(psi, s) - (1 - sp.exp(-s)))
    d.step("", sp.StrictLessThan(sp.Symbol("K_theta"), sp.Symbol("T_theta") / eta + 1 + sp.Symbol("Lambda")))
    d.step("Lower bound. Let $S = \\ln(h(u_p)/h(w_\\theta)) \\ge 0$ ($S = 0$ iff $\\theta \\le \\rho$). Each step has "
           "$\\Delta_k \\le \\eta\\max(1, e^{s_k})$, $s_k = \\ln h(w_k) - \\ln h(w_{k+1})$; since $h(w_k)$ rises then falls "
           "in $k$, $\\sum_k s_k^+ \\le S$ and each $s_k^+ \\le S$, so by convexity $e^{s_k^+} \\le 1 + s_k^+(e^S - 1)/S$ "
           "and $\\sum_{k \\le K-2}\\Delta_k \\le \\eta(K-1) + \\eta(e^S - 1)$. The last partial step "
           "$\\int_{w_{K-1}}^{w_\\theta} du/h \\le \\eta h(w_{K-1})/\\min(h(w_{K-1}), h(w_\\theta)) \\le \\eta e^S$ "
           "(because $w_\\theta - w_{K-1} \\le w_K - w_{K-1} = \\eta h(w_{K-1})$). Summing, $T_\\theta \\le \\eta(K - 2 + 2e^S)$:")
    phi = 1 + s * (sp.exp(S) - 1) / S - sp.exp(s)
    d.prove_zero("chord bound $e^s \\le 1 + s(e^S - 1)/S$ on $[0, S]$: $\\varphi(0) = 0$", phi.subs(s, 0))
    d.prove_zero("$\\varphi(S) = 0$", sp.simplify(phi.subs(s, S)))
    d.prove_zero("$\\varphi''(s) = -e^s < 0$ (concave, so $\\varphi \\ge 0$ between its zeros)", sp.diff(phi, s, 2) + sp.exp(s))
    d.step("", sp.GreaterThan(sp.Symbol("K_theta"), sp.Symbol("T_theta") / eta + 2 - 2 * sp.exp(sp.Symbol("S"))))
    wt = (th * lam) ** (1 / N)
    logratio = (N - 1) * sp.log(wt) + sp.log(lam - wt**N) - (N - 1) * sp.log(a_) - sp.log(lam - a_**N)
    explicit = (N - 1) * sp.log(wt / a_) + sp.log((1 - th) * lam / (lam - a_**N))
    d.prove_zero("$\\theta \\le \\rho$: $\\Lambda = (N-1)\\ln(w_\\theta/\\alpha) + \\ln\\frac{(1-\\theta)\\lambda}{\\lambda - \\alpha^N}$",
                 sp.simplify(sp.expand_log(logratio - explicit, force=True)))
    d.step("Explicitly, for $\\theta \\le \\rho = (N-1)/(2N-1)$: $S = 0$ and "
           "$\\lceil T_\\theta/\\eta\\rceil \\le K_\\theta < T_\\theta/\\eta + 1 + (N-1)\\ln(w_\\theta/\\alpha) + "
           "\\ln\\frac{(1-\\theta)\\lambda}{\\lambda - \\alpha^N}$: the window is $O((N-1)\\ln(1/\\alpha))$ iterations wide "
           "while $T_\\theta/\\eta$ grows like $\\alpha^{2-N}/((N-2)\\lambda\\eta)$ ($N \\ge 3$) or "
           "$\\ln(1/\\alpha)/(\\lambda\\eta)$ ($N = 2$), so measured/predicted $\\to 1$.")
    d.result = sp.And(sp.GreaterThan(sp.Symbol("K_theta"), sp.Symbol("T_theta") / eta + 2 - 2 * sp.exp(sp.Symbol("S"))),
                      sp.StrictLessThan(sp.Symbol("K_theta"), sp.Symbol("T_theta") / eta + 1 + sp.Symbol("Lambda")))
    return d


def erank_box_max() -> Derivation:
    c, m, SF, EF = sp.symbols("c m S_F E_F", positive=True)
    S = SF + m * c
    H = sp.log(S) - (EF + m * c * sp.log(c)) / S
    d = Derivation("Exact enclosure of erank over a box (used for the predicted intervals)",
                   source="Roy & Vetterli 2007 (effective rank); Chou, Gieshoff, Maly & Rauhut (effective-rank intervals)",
                   references=("roy2007", "chou2020"),
                   assumptions=["$x \\in [lo, hi]$ componentwise, $H(x) = -\\sum_i p_i\\ln p_i$, $p = x/\\sum x$."])
    d.step("Minimum: $x \\mapsto H(x/\\sum x)$ is quasi-concave on the orthant (superlevel sets are cones over convex "
           "subsets of the simplex, $H$ being concave there), so its minimum over the box is at a vertex.")
    d.step("Maximum: $H$ is Schur-concave and for a fixed sum the water-filled vector $\\mathrm{clip}(c, lo, hi)$ is "
           "majorised by every box vector of that sum, so $\\max H = \\max_c H(\\mathrm{clip}(c, lo, hi))$. Between "
           "consecutive knots $m$ coordinates equal $c$ and the rest are fixed ($S_F = \\sum f_i$, $E_F = \\sum f_i\\ln f_i$):")
    d.prove_zero("$\\frac{dH}{dc} = \\frac{m(E_F - S_F\\ln c)}{S^2}$", sp.simplify(sp.diff(H, c) - m * (EF - SF * sp.log(c)) / S**2))
    d.result = sp.Eq(Label("c^*"), sp.exp(EF / SF))
    return d


def all_derivations() -> list[Derivation]:
    return [decoupling(), convergence(), switch_on_time(), switch_on_bounds(), erank_box_max()]
