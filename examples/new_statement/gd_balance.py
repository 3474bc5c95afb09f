"""A user's own gradient descent for deep matrix factorization: the code the claims are about.

    W = W_N ... W_1,   phi(W_1, ..., W_N) = l(W),   l(W) = 1/2 sum_i (<A_i, W> - y_i)^2,
    G_j = dphi/dW_j = (W_N ... W_{j+1})^T grad l(W) (W_{j-1} ... W_1)^T,
    GD:  W_j <- W_j - eta G_j  (all layers at once),
    imbalance(W) = max_j ||W_{j+1}^T W_{j+1} - W_j W_j^T||_F.

Plain numpy, nothing from dmf-verify: test_gd_balance_claims.py checks it, mutants.py breaks it
on purpose.
"""

import numpy as np


def end_to_end(factors):
    """W = W_N ... W_1 for factors = [W_1, ..., W_N]."""
    w = factors[0]
    for f in factors[1:]:
        w = f @ w
    return w


def sensing_value(a, y, w):
    """l(W) = 1/2 sum_i (<A_i, W> - y_i)^2 for A of shape (m, d, d')."""
    r = np.einsum("mij,ij->m", a, w) - y
    return 0.5 * float(r @ r)


def sensing_gradient(a, y, w):
    """grad l(W) = sum_i (<A_i, W> - y_i) A_i."""
    r = np.einsum("mij,ij->m", a, w) - y
    return np.einsum("m,mij->ij", r, a)


def factor_gradients(factors, grad_w):
    """[G_1, ..., G_N] with G_j = (W_N ... W_{j+1})^T grad_w (W_{j-1} ... W_1)^T."""
    n = len(factors)
    grads = []
    for j in range(n):
        left = np.eye(factors[-1].shape[0])
        for k in range(n - 1, j, -1):
            left = left @ factors[k]
        right = np.eye(factors[0].shape[1])
        for k in range(j):
            right = factors[k] @ right
        grads.append(left.T @ grad_w @ right.T)
    return grads


def gradient_descent(a, y, factors, *, eta, steps):
    """``steps`` GD steps with step size ``eta`` on phi; returns the new factors."""
    fs = [np.array(f, dtype=float) for f in factors]
    for _ in range(steps):
        grads = factor_gradients(fs, sensing_gradient(a, y, end_to_end(fs)))
        fs = [f - eta * g for f, g in zip(fs, grads)]
    return fs


def imbalance(factors):
    """max_j ||W_{j+1}^T W_{j+1} - W_j W_j^T||_F (0 for depth 1)."""
    return max((float(np.linalg.norm(b.T @ b - a @ a.T)) for a, b in zip(factors, factors[1:])), default=0.0)
