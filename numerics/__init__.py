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

__all__ = [name for name in dir() if not name.startswith("_")]
