"""The claim registry: id -> Claim, discovered from the modules under ``dmf_verify.checks.claims``.

A claim module defines ``CLAIM = Claim(...)`` or ``CLAIMS = [Claim(...), ...]``. Other packages
(users' test suites) can add claims through the entry-point group ``dmf_verify.claims``,
whose objects are a Claim, a list of them, or a callable returning either.
Discovery imports the modules on first use only, never at import time of ``checks``.

Two ways in, one answer:

* :func:`all_claims` imports every claim module (what ``dmf-verify check`` with no id needs).
* :func:`index`, :func:`get` and :func:`select` first read the claim modules' *source*: a module
  whose claims are written literally (``CLAIM = Claim(id="...", source="...", ...)`` or
  ``CLAIMS = [Claim(...), ...]`` with a string ``id`` and ``source`` and a literal ``slow``) is
  indexed without being imported, so ``dmf-verify list`` loads neither scipy nor sympy, and
  ``dmf-verify check ID`` imports only the module that defines ``ID``. A module written any other
  way (ids computed at run time, ``CLAIMS`` built by a function, like ``user_tests.py``) is
  imported every time -- correct, only slower. ``tests/test_registry.py`` asserts that the index
  and the imported modules agree on every claim's id, source and ``slow`` flag.
"""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
from dataclasses import dataclass
from importlib import metadata

from dmf_verify.checks.claim import Claim
from dmf_verify.checks.errors import ConfigError, UnknownClaimError
from dmf_verify.errors import InvalidArgument

_REGISTRY: dict[str, Claim] | None = None  # everything, once all modules were imported
_EXTRA: dict[str, Claim] = {}  # claims added by register()
_MODULE_CLAIMS: dict[str, list[Claim]] = {}  # module name -> its claims (imported modules only)
_STATIC: tuple[dict[str, ClaimInfo], list[str]] | None = None  # (id -> info, modules to import)


class DuplicateClaimError(InvalidArgument):
    """Two claims with one id: a programming error in the claim modules, never hidden."""


@dataclass(frozen=True)
class ClaimInfo:
    """What ``dmf-verify list`` shows about a claim, known without running (or importing) it."""

    id: str
    source: str
    slow: bool
    module: str | None = None  # the defining module under dmf_verify.checks.claims (None: entry point / register)


def reset() -> None:
    """Forget every cached module, claim and index entry (the next look-up discovers afresh).

    Discovery of users' claims depends on the working directory and ``$DMF_VERIFY_TESTS``; a
    long-lived process (a test suite) that changes either calls this.
    """
    global _REGISTRY, _STATIC
    _REGISTRY, _STATIC = None, None
    _MODULE_CLAIMS.clear()
    _EXTRA.clear()


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


# --------------------------------------------------------------------------------------------
# modules
# --------------------------------------------------------------------------------------------
def _modules() -> list[tuple[str, str | None]]:
    """(module name, source file) of every module under dmf_verify.checks.claims, in import order."""
    import dmf_verify.checks.claims as root

    out = []
    for info in pkgutil.walk_packages(root.__path__, prefix=root.__name__ + ".", onerror=_broken_package):
        short = info.name.rsplit(".", 1)[-1]
        base = getattr(info.module_finder, "path", None)
        path = None
        if base is not None:
            path = os.path.join(base, short, "__init__.py") if info.ispkg else os.path.join(base, short + ".py")
            if not os.path.isfile(path):
                path = None
        out.append((info.name, path))
    return out


def _module_claims(name: str) -> list[Claim]:
    """Import one claim module and return its claims (cached); an import failure propagates."""
    if name in _MODULE_CLAIMS:
        return _MODULE_CLAIMS[name]
    mod = importlib.import_module(name)
    items = []
    if hasattr(mod, "CLAIM"):
        items += _collect(mod.CLAIM)
    if hasattr(mod, "CLAIMS"):
        items += _collect(mod.CLAIMS)
    seen: set[str] = set()
    for c in items:
        if c.id in seen:
            raise DuplicateClaimError(f"duplicate claim id {c.id!r} in {name}")
        seen.add(c.id)
    _MODULE_CLAIMS[name] = items
    return items


def _load() -> dict[str, Claim]:
    global _REGISTRY
    if _REGISTRY is not None:
        return _REGISTRY
    found: dict[str, Claim] = {}
    for name, _path in _modules():
        try:
            items = _module_claims(name)
        except (DuplicateClaimError, ConfigError):  # a user's bad configuration is reported, never hidden
            raise
        except Exception as exc:  # a broken module shows up as a failing pseudo-claim, not a crash
            c = _import_failure(name, exc)
            found[c.id] = c
            continue
        for c in items:
            if c.id in found:
                raise DuplicateClaimError(f"duplicate claim id {c.id!r} in {name}")
            found[c.id] = c
    for c in _entry_point_claims():
        found.setdefault(c.id, c)
    found.update(_EXTRA)
    _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def _entry_point_claims() -> list[Claim]:
    out = []
    for ep in metadata.entry_points(group="dmf_verify.claims"):
        out += _collect(ep.load())
    return out


def _broken_package(name: str) -> None:
    raise InvalidArgument(f"claim package {name!r} failed to import")


def _import_failure(module: str, exc: Exception, claim_id: str | None = None) -> Claim:
    """A claim standing for a module that failed to import: it always reports ERROR."""
    message = f"claim module {module} failed to import: {type(exc).__name__}: {exc}"

    def fail(_seed):
        raise ImportError(message)

    cid = claim_id or f"import-error.{module.removeprefix('dmf_verify.checks.claims.')}"
    return Claim(id=cid, source=module, statement=message,
                 verify=fail, control=fail, tolerance=0.0, tolerance_reason="-",
                 control_description="-")


# --------------------------------------------------------------------------------------------
# the static index (claim metadata read from source, nothing imported)
# --------------------------------------------------------------------------------------------
_CLAIM_FIELDS = ("id", "source", "statement", "verify", "control", "tolerance", "tolerance_reason",
                 "control_description", "derive", "slow")


def _is_claim_call(node) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Name) and f.id == "Claim") or (isinstance(f, ast.Attribute) and f.attr == "Claim")


def _literal(node, constants: dict):
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    return ast.literal_eval(node)


def static_claims(source: str) -> list[tuple[str, str, bool]] | None:
    """(id, source, slow) of every claim a module's source defines literally, or None when it cannot tell.

    Literal means ``CLAIM = Claim(...)`` or ``CLAIMS = [Claim(...), ...]`` (list or tuple) at module
    level, bound once and never touched again, each call with a string ``id`` and ``source`` and
    a ``slow`` that is a literal bool (or absent), literals or module-level constants.

    >>> static_claims('CLAIM = Claim(id="a.b", source="P1, eq. 5", slow=True, tolerance=1.0)')
    [('a.b', 'P1, eq. 5', True)]
    >>> static_claims('CLAIMS = make_claims()') is None
    True
    >>> static_claims('x = 1')
    []
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None  # importing it will report the error
    constants: dict = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                pass
    names = {"CLAIM", "CLAIMS"}
    bound = [n for n in ast.walk(tree) if (isinstance(n, ast.Name) and n.id in names)
             or (isinstance(n, ast.alias) and (n.asname or n.name) in names)
             or (isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name in names)
             or (isinstance(n, ast.Global) and names & set(n.names))]
    if not bound:
        return []
    calls = []
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in names):
            continue
        value = node.value
        if node.targets[0].id == "CLAIM" and _is_claim_call(value):
            calls.append(value)
        elif node.targets[0].id == "CLAIMS" and isinstance(value, (ast.List, ast.Tuple)) \
                and all(_is_claim_call(e) for e in value.elts):
            calls += value.elts
        else:
            return None
    # every mention of CLAIM/CLAIMS must be one of those single assignments
    n_assign = sum(1 for node in tree.body if isinstance(node, ast.Assign) and len(node.targets) == 1
                   and isinstance(node.targets[0], ast.Name) and node.targets[0].id in names)
    if len(bound) != n_assign or n_assign != len({n.id for n in bound if isinstance(n, ast.Name)}):
        return None
    out = []
    for call in calls:
        if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
            return None
        kw = {k.arg: k.value for k in call.keywords}
        for name, arg in zip(_CLAIM_FIELDS, call.args):
            kw.setdefault(name, arg)
        try:
            cid = _literal(kw["id"], constants)
            src = _literal(kw["source"], constants)
            slow = _literal(kw["slow"], constants) if "slow" in kw else False
        except (KeyError, ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
        if not (isinstance(cid, str) and isinstance(src, str) and isinstance(slow, bool)):
            return None
        out.append((cid, src, slow))
    return out


def _static() -> tuple[dict[str, ClaimInfo], list[str]]:
    """(id -> ClaimInfo for literally written claims, names of the modules that must be imported)."""
    global _STATIC
    if _STATIC is not None:
        return _STATIC
    infos: dict[str, ClaimInfo] = {}
    dynamic: list[str] = []
    for name, path in _modules():
        found = None
        if path is not None:
            try:
                with open(path, encoding="utf-8") as fh:
                    found = static_claims(fh.read())
            except (OSError, UnicodeDecodeError):
                found = None
        if found is None or any(cid in infos for cid, _, _ in found):
            dynamic.append(name)  # duplicates too: importing everything reports them properly
            continue
        for cid, src, slow in found:
            infos[cid] = ClaimInfo(cid, src, slow, name)
    _STATIC = (infos, dynamic)
    return _STATIC


def _light() -> dict[str, Claim | ClaimInfo]:
    """Every claim id -> the Claim if it is loaded, else its ClaimInfo (imports only what must be)."""
    if _REGISTRY is not None:
        return dict(_REGISTRY)
    infos, dynamic = _static()
    out: dict[str, Claim | ClaimInfo] = dict(infos)
    for name in dynamic:
        try:
            items = _module_claims(name)
        except (DuplicateClaimError, ConfigError):  # a user's bad configuration is reported, never hidden
            raise
        except Exception as exc:
            c = _import_failure(name, exc)
            items = [c]
        for c in items:
            if c.id in out:
                return dict(_load())  # a duplicate: let the full load report it
            out[c.id] = c
    for c in _entry_point_claims():
        out.setdefault(c.id, c)
    out.update(_EXTRA)
    return dict(sorted(out.items()))


def _info(x: Claim | ClaimInfo) -> ClaimInfo:
    return x if isinstance(x, ClaimInfo) else ClaimInfo(x.id, x.source, x.slow, None)


def index() -> list[ClaimInfo]:
    """Id, source and ``slow`` of every claim, sorted by id, importing as little as possible."""
    return [_info(x) for x in _light().values()]


def _materialize(x: Claim | ClaimInfo) -> Claim:
    if isinstance(x, Claim):
        return x
    try:
        items = _module_claims(x.module)
    except (DuplicateClaimError, ConfigError):
        raise
    except Exception as exc:  # the claim exists but its module is broken: it reports ERROR
        return _import_failure(x.module, exc, claim_id=x.id)
    for c in items:
        if c.id == x.id:
            return c
    raise InvalidArgument(f"claim {x.id!r} is written in {x.module}'s source but the imported module does not "
                          "define it (the static index and the module disagree)")


# --------------------------------------------------------------------------------------------
# public look-ups
# --------------------------------------------------------------------------------------------
def all_claims(*, include_slow: bool = True) -> list[Claim]:
    return [c for c in _load().values() if include_slow or not c.slow]


def _unknown(claim_id: str, known) -> UnknownClaimError:
    close = [k for k in known if claim_id.split(".")[0] in k][:5]
    hint = f"; similar: {', '.join(close)}" if close else ""
    return UnknownClaimError(f"unknown claim id {claim_id!r} (see 'dmf-verify list'){hint}")


def get(claim_id: str) -> Claim:
    if _REGISTRY is None and not _EXTRA:
        infos, _ = _static()
        if claim_id in infos:
            return _materialize(infos[claim_id])
    light = _light()
    if claim_id not in light:
        raise _unknown(claim_id, light)
    return _materialize(light[claim_id])


def select(ids: list[str] | None, *, include_slow: bool = False) -> list[Claim]:
    """Claims by exact id or by prefix ending in '.' or '*' (e.g. 'arora2019.*').

    With no ids: every claim (the slow ones only with ``include_slow``). A prefix selects the slow
    claims it matches only with ``include_slow`` too (``'arora2019.*'`` would otherwise run minutes
    of paper-size figures), unless every claim it matches is slow; an exact id selects its claim
    even if slow: naming a claim is asking for it. :func:`count_slow` says how many a selection left out.
    """
    if not ids:
        return all_claims(include_slow=include_slow)
    out: list[Claim] = []
    light = None
    for i in ids:
        if i.endswith(("*", ".")):
            prefix = i.rstrip("*")
            if light is None:
                light = _light()
            kept, _left = _by_prefix(prefix, light.values(), include_slow)
            if not kept and not _left:
                raise UnknownClaimError(f"no claim id starts with {prefix!r} (see 'dmf-verify list')")
            for x in kept:
                c = _materialize(x)
                if c not in out:
                    out.append(c)
        else:
            c = get(i)
            if c not in out:
                out.append(c)
    return out


def count_slow(ids: list[str] | None = None) -> int:
    """How many slow claims ``select(ids)`` without ``include_slow`` leaves out.

    With no ids: every slow claim; otherwise the slow claims matched only by a prefix (an exact id
    is always selected).
    """
    infos = index()
    if not ids:
        return sum(1 for x in infos if x.slow)
    left: set[str] = set()
    for i in ids:
        if i.endswith(("*", ".")):
            left |= {x.id for x in _by_prefix(i.rstrip("*"), infos, False)[1]}
    return len(left - set(ids))


def _by_prefix(prefix: str, entries, include_slow: bool) -> tuple[list, list]:
    """(selected, left out) among ``entries`` (Claims or ClaimInfos) whose id starts with ``prefix``.

    The slow ones are left out unless ``include_slow``, or unless every match is slow ('x.mp*'
    naming only slow claims asks for them).
    """
    matched = [x for x in entries if x.id.startswith(prefix)]
    keep_slow = include_slow or all(x.slow for x in matched)
    return [x for x in matched if keep_slow or not x.slow], [x for x in matched if x.slow and not keep_slow]
