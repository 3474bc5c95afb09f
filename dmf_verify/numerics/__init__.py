"""Numerics for deep matrix factorization (float64 numpy; mpmath for high precision).

Public entry points are re-exported here and imported on first use (``numerics.gradient_descent``
loads numpy and the descent module only when touched), so ``import dmf_verify.numerics`` is cheap.
The modules say what they hold.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "balanced_factors": "dmf_verify.numerics.model",
    "BlowUpError": "dmf_verify.errors",
    "CompletionLoss": "dmf_verify.numerics.losses",
    "DescentResult": "dmf_verify.numerics.descent",
    "DivergenceError": "dmf_verify.errors",
    "DMFError": "dmf_verify.errors",
    "effective_rank": "dmf_verify.numerics.spectral",
    "end_to_end_velocity": "dmf_verify.numerics.flow",
    "factor_gradients": "dmf_verify.numerics.model",
    "FlowResult": "dmf_verify.numerics.flow",
    "FrobeniusLoss": "dmf_verify.numerics.losses",
    "gradient_descent": "dmf_verify.numerics.descent",
    "gram_power": "dmf_verify.numerics.spectral",
    "imbalance": "dmf_verify.numerics.model",
    "imbalance_norm": "dmf_verify.numerics.model",
    "integrate_end_to_end_flow": "dmf_verify.numerics.flow",
    "integrate_end_to_end_from_factors": "dmf_verify.numerics.flow",
    "integrate_factor_flow": "dmf_verify.numerics.flow",
    "IntegrationError": "dmf_verify.errors",
    "InvalidArgument": "dmf_verify.errors",
    "NonFiniteError": "dmf_verify.errors",
    "NotBalancedError": "dmf_verify.errors",
    "NotPSDError": "dmf_verify.errors",
    "nuclear_norm": "dmf_verify.numerics.spectral",
    "product": "dmf_verify.numerics.model",
    "psd_power": "dmf_verify.numerics.spectral",
    "random_completion": "dmf_verify.numerics.losses",
    "random_factors": "dmf_verify.numerics.model",
    "random_sensing": "dmf_verify.numerics.losses",
    "require_balanced": "dmf_verify.numerics.model",
    "scaled_identity_factors": "dmf_verify.numerics.model",
    "schatten_norm": "dmf_verify.numerics.spectral",
    "schatten_p_power": "dmf_verify.numerics.spectral",
    "SensingLoss": "dmf_verify.numerics.losses",
    "ShapeError": "dmf_verify.errors",
    "singular_values": "dmf_verify.numerics.spectral",
    "SolverError": "dmf_verify.errors",
    "svd_aligned": "dmf_verify.numerics.spectral",
    "svd_sorted": "dmf_verify.numerics.spectral",
    "UndefinedError": "dmf_verify.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
