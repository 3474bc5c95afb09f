"""Symbolic (sympy) derivations of the claims, in explicit coordinates.

Nothing is computed at import time: each derivation is a function returning a
:class:`dmf_verify.theory.derivation.Derivation`.
"""

from dmf_verify.theory.derivation import Derivation, Step, is_zero

__all__ = ["Derivation", "Step", "is_zero"]
