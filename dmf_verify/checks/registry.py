"""The claim registry: id -> Claim, discovered from the modules under ``dmf_verify.checks.claims``.

A claim module defines ``CLAIM = Claim(...)`` or ``CLAIMS = [Claim(...), ...]``. Other packages
(users' test suites) can add claims through the entry-point group ``dmf_verify.claims``,
whose objects are a Claim, a list of them, or a callable returning either.
Discovery imports the modules on first use only, never at import time of ``checks``.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib import metadata

from dmf_verify.checks.claim import Claim
from dmf_verify.checks.errors import UnknownClaimError
from dmf_verify.errors import InvalidArgument

_REGISTRY: dict[str, Claim] | None = None
_EXTRA: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add a claim at run time (ids must be unique)."""
    reg = _load()
    if claim.id in reg and reg[claim.id] is not claim:
        raise InvalidArgument(f"a claim with id {claim.id!r} is already registered")
    reg[claim.id] = claim
    _EXTRA[claim.id] = claim
    return claim


def _collect(obj) -> list[Claim]:
    if callable(obj) and not isinstance(obj, Claim):
        obj = obj()
    if isinstance(obj, Claim):
        return [obj]
    return [c for c in obj if isinstance(c, Claim)]


def _load() -> dict[str, Claim]:
    global _REGISTRY
    if _REGISTRY is not None:
        return _REGISTRY
    import dmf_verify.checks.claims as root

    found: dict[str, Claim] = {}
    for info in pkgutil.walk_packages(root.__path__, prefix=root.__name__ + ".", onerror=_broken_package):
        try:
            mod = importlib.import_module(info.name)
        except Exception as exc:  # a broken module shows up as a failing pseudo-claim, not a crash
            c = _import_failure(info.name, exc)
            found[c.id] = c
            continue
        items = []
        if hasattr(mod, "CLAIM"):
            items += _collect(mod.CLAIM)
        if hasattr(mod, "CLAIMS"):
            items += _collect(mod.CLAIMS)
        for c in items:
            if c.id in found:
                raise InvalidArgument(f"duplicate claim id {c.id!r} in {info.name}")
            found[c.id] = c
    for ep in metadata.entry_points(group="dmf_verify.claims"):
        for c in _collect(ep.load()):
            found.setdefault(c.id, c)
    found.update(_EXTRA)
    _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def _broken_package(name: str) -> None:
    raise InvalidArgument(f"claim package {name!r} failed to import")


def _import_failure(module: str, exc: Exception) -> Claim:
    """A claim standing for a module that failed to import: it always reports ERROR."""
    message = f"claim module {module} failed to import: {type(exc).__name__}: {exc}"

    def fail(_seed):
        raise ImportError(message)

    return Claim(id=f"import-error.{module.removeprefix('dmf_verify.checks.claims.')}", source=module, statement=message,
                 verify=fail, control=fail, tolerance=0.0, tolerance_reason="-",
                 control_description="-")


def all_claims(*, include_slow: bool = True) -> list[Claim]:
    return [c for c in _load().values() if include_slow or not c.slow]


def get(claim_id: str) -> Claim:
    reg = _load()
    if claim_id not in reg:
        close = [k for k in reg if claim_id.split(".")[0] in k][:5]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise UnknownClaimError(f"unknown claim id {claim_id!r} (see 'dmf-verify list'){hint}")
    return reg[claim_id]


def select(ids: list[str] | None, *, include_slow: bool = False) -> list[Claim]:
    """Claims by exact id or by prefix ending in '.' or '*' (e.g. 'arora2019.*')."""
    if not ids:
        return all_claims(include_slow=include_slow)
    out: list[Claim] = []
    for i in ids:
        if i.endswith("*") or i.endswith("."):
            prefix = i.rstrip("*")
            matched = [c for c in _load().values() if c.id.startswith(prefix)]
            if not matched:
                raise UnknownClaimError(f"no claim id starts with {prefix!r} (see 'dmf-verify list')")
            out += [c for c in matched if c not in out]
        else:
            c = get(i)
            if c not in out:
                out.append(c)
    return out
