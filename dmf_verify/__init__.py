"""dmf-verify: theorem checks for implicit regularization in deep matrix factorization.

Three parts, layered ``checks -> theory -> numerics`` (an arrow means "may import"):

* :mod:`dmf_verify.numerics` -- float64 and mpmath numerics (models, losses, descent, flows,
  integrators, spectral tools, nuclear-norm solvers);
* :mod:`dmf_verify.theory` -- sympy derivations, rendered as text and LaTeX;
* :mod:`dmf_verify.checks` -- the claim registry, the ``dmf-verify`` command line, experiments,
  and the users' library (strategies, assertions, pytest plugin).

The exception hierarchy lives in :mod:`dmf_verify.errors`. Importing this package is cheap: it
loads none of numpy, scipy or sympy.
"""

__version__ = "0.2.0"

__all__ = ["__version__"]
