"""Every derivation of the project, by name (``module:function``), built on demand."""

from __future__ import annotations

import importlib

DERIVATIONS = {
    "lemma3": "dmf_verify.theory.end_to_end:lemma3",
    "theorem3": "dmf_verify.theory.svd_flow:theorem3",
    "lemma2": "dmf_verify.theory.singular_vectors:lemma2",
    "corollary1": "dmf_verify.theory.singular_vectors:corollary1",
    "spectral_flow": "dmf_verify.theory.svd_flow:spectral_flow",
    "lemma4": "dmf_verify.theory.scalar_ode:lemma4",
    "sign_preservation": "dmf_verify.theory.scalar_ode:sign_preservation",
    "eq11": "dmf_verify.theory.scalar_ode:eq11",
    "asymptote_depth": "dmf_verify.theory.scalar_ode:asymptote_depth",
    "balancedness": "dmf_verify.theory.balancedness:balancedness",
    "implicit_balancing": "dmf_verify.theory.implicit_balancing:implicit_balancing",
    "proposition1": "dmf_verify.theory.counterexample:proposition1",
    "gd_error_expansion": "dmf_verify.theory.richardson:gd_error_expansion",
    "factor_gradients": "dmf_verify.theory.gradients:factor_gradients",
    "chou_decoupling": "dmf_verify.theory.chou:decoupling",
    "chou_convergence": "dmf_verify.theory.chou:convergence",
    "chou_switch_on_time": "dmf_verify.theory.chou:switch_on_time",
    "chou_switch_on_bounds": "dmf_verify.theory.chou:switch_on_bounds",
    "chou_erank_box_max": "dmf_verify.theory.chou:erank_box_max",
}


def builder(name: str):
    """The function that builds derivation ``name`` (InvalidArgument for an unknown name)."""
    from dmf_verify.errors import InvalidArgument

    try:
        target = DERIVATIONS[name]
    except KeyError:
        raise InvalidArgument(f"unknown derivation {name!r}; known: {sorted(DERIVATIONS)}") from None
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def derivation(name: str):
    """Build (or fetch the cached) derivation ``name``."""
    return builder(name)()


__all__ = ["DERIVATIONS", "builder", "derivation"]
