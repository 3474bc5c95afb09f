"""Numerics for deep matrix factorization (float64 numpy; mpmath for high precision).

Public entry points are re-exported here; the modules say what they hold.
"""

from numerics.descent import DescentResult, gradient_descent
from numerics.errors import (
    BlowUpError,
    DivergenceError,
    DMFError,
    IntegrationError,
    InvalidArgument,
    NonFiniteError,
    NotBalancedError,
    NotPSDError,
    ShapeError,
    SolverError,
    UndefinedError,
    UnknownClaimError,
)
from numerics.flow import (
    FlowResult,
    end_to_end_velocity,
    integrate_end_to_end_flow,
    integrate_end_to_end_from_factors,
    integrate_factor_flow,
)
from numerics.losses import (
    CompletionLoss,
    FrobeniusLoss,
    SensingLoss,
    random_completion,
    random_sensing,
)
from numerics.model import (
    balanced_factors,
    factor_gradients,
    imbalance,
    imbalance_norm,
    product,
    random_factors,
    require_balanced,
    scaled_identity_factors,
)
from numerics.spectral import (
    effective_rank,
    gram_power,
    nuclear_norm,
    psd_power,
    schatten_norm,
    schatten_p_power,
    singular_values,
    svd_aligned,
    svd_sorted,
)

__all__ = [
    "BlowUpError",
    "CompletionLoss",
    "DMFError",
    "DescentResult",
    "DivergenceError",
    "FlowResult",
    "FrobeniusLoss",
    "IntegrationError",
    "InvalidArgument",
    "NonFiniteError",
    "NotBalancedError",
    "NotPSDError",
    "SensingLoss",
    "ShapeError",
    "SolverError",
    "UndefinedError",
    "UnknownClaimError",
    "balanced_factors",
    "effective_rank",
    "end_to_end_velocity",
    "factor_gradients",
    "gradient_descent",
    "gram_power",
    "imbalance",
    "imbalance_norm",
    "integrate_end_to_end_flow",
    "integrate_end_to_end_from_factors",
    "integrate_factor_flow",
    "nuclear_norm",
    "product",
    "psd_power",
    "random_completion",
    "random_factors",
    "random_sensing",
    "require_balanced",
    "scaled_identity_factors",
    "schatten_norm",
    "schatten_p_power",
    "singular_values",
    "svd_aligned",
    "svd_sorted",
]
