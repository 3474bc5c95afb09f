"""Turn users' pytest tests marked ``@pytest.mark.dmf_claim(...)`` into registry claims.

Mechanism (docs/user_tests.md):

1. mark a test::

       @pytest.mark.dmf_claim("mylab.balancedness", source="my notes, eq. 3",
                              statement=r"W_{j+1}^\\top W_{j+1} - W_j W_j^\\top = \\text{const}",
                              control="test_balancedness_wrong")
       def test_balancedness(dmf): ...

   ``control`` names a test function in the same module (or is a callable) that runs the
   *wrong* variant; it must fail for the claim to pass (project rule: every claim has a
   negative control). Without one the claim reports ERROR.
2. tell ``dmf-verify`` where the tests are: ``DMF_VERIFY_TESTS=path/to/test_x.py:path/to/dir``
   (``os.pathsep``-separated files or directories), or in the current directory's
   pyproject.toml::

       [tool.dmf-verify]
       claim-tests = ["tests/test_my_claims.py"]

   The module ``checks/claims/user_tests.py`` hands :func:`discover` to the registry, so the
   marked tests appear in ``dmf-verify list`` / ``check`` / ``report``. A package can instead
   publish them through the entry-point group ``dmf_verify.claims`` with an object such as
   ``lambda: claims_from_paths(["tests/"])``.

Measurement: the test runs with the fixtures ``dmf`` and ``dmf_seed`` (seed = the claim's
seed). Its error is max(error / tolerance) over the dmf assertions it made (each derives its own
tolerance), so the claim's tolerance is 1. A plain ``assert`` that fails counts as ``inf``; a
test that passes without dmf assertions counts as 0.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import os
import sys
from pathlib import Path

from dmf_verify.checks.claim import Claim, Measurement

ENV = "DMF_VERIFY_TESTS"
_SUPPORTED_FIXTURES = ("dmf", "dmf_seed")


def _marks(func) -> list:
    return [m for m in getattr(func, "pytestmark", []) if getattr(m, "name", "") == "dmf_claim"]


def run_test(func, seed: int) -> Measurement:
    """Run a test function with the dmf fixtures; error = worst error/tolerance (see module doc)."""
    from dmf_verify.checks.assertions import DMFAssertionError
    from dmf_verify.checks.pytest_plugin import DMF

    params = inspect.signature(func).parameters
    missing = [p for p in params if p not in _SUPPORTED_FIXTURES and params[p].default is inspect.Parameter.empty]
    if missing:
        raise TypeError(f"{func.__name__} asks for fixtures {missing}; outside pytest only "
                        f"{list(_SUPPORTED_FIXTURES)} are available")
    helper = DMF(seed, f"{func.__module__}::{func.__name__}")
    kwargs = {"dmf": helper, "dmf_seed": seed}
    kwargs = {k: v for k, v in kwargs.items() if k in params}
    inner = getattr(getattr(func, "hypothesis", None), "inner_test", None)
    if inner is not None:  # a @given test: make its examples follow the claim's seed
        func._hypothesis_internal_use_seed = seed
    failed = None
    try:
        func(**kwargs)
    except DMFAssertionError as exc:
        failed = exc
    except AssertionError as exc:
        return Measurement(math.inf, {"assertion": str(exc)[:500]})
    worst = max((c.ratio for c in helper.checks), default=0.0)
    if failed is not None:
        worst = max(worst, failed.check.ratio)
    details = {"checks": [{"name": c.name, "error": c.error, "tolerance": c.tolerance} for c in helper.checks[:20]]}
    return Measurement(float(worst), details)


def claim_from_test(func, *, id: str, source: str = "", statement: str = "", control=None, notes: str = "",
                    slow: bool = False) -> Claim:
    """A Claim whose verification runs ``func`` and whose control runs ``control`` (both tests)."""
    module = sys.modules.get(func.__module__)
    if isinstance(control, str):
        ctl = getattr(module, control, None)
        if ctl is None:
            raise LookupError(f"dmf_claim {id!r}: control {control!r} not found in {func.__module__}")
        control = ctl

    def _control(seed):
        if control is None:
            raise LookupError(f"dmf_claim {id!r} names no negative control (control='test_name'); "
                              "a claim without one proves nothing")
        return run_test(control, seed)

    return Claim(id=id, source=source or f"{func.__module__}.{func.__name__}",
                 statement=statement or rf"\text{{{func.__name__.replace('_', ' ')}}}",
                 verify=lambda seed: run_test(func, seed), control=_control, tolerance=1.0,
                 tolerance_reason="error = max over the test's dmf assertions of error/tolerance, each tolerance "
                                  "derived by the assertion (integrator error estimate or measured order); "
                                  "a failing plain assert counts as inf",
                 control_description=(f"test {control.__name__} (must fail)" if control is not None
                                      else "none given"),
                 notes=notes or (inspect.getdoc(func) or "").split("\n\n")[0], slow=slow)


def claims_from_module(module) -> list[Claim]:
    """Claims for every function of ``module`` marked ``dmf_claim``."""
    out = []
    for name, func in sorted(vars(module).items()):
        if not callable(func):
            continue
        for m in _marks(func):
            kw = dict(m.kwargs)
            cid = m.args[0] if m.args else kw.pop("id", f"user.{module.__name__}.{name}")
            kw.pop("id", None)
            out.append(claim_from_test(func, id=cid, **kw))
    return out


def _import_path(path: Path):
    name = "dmf_user_tests_" + "_".join(path.resolve().with_suffix("").parts[-3:]).replace("-", "_").replace(".", "_")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        sys.path.remove(str(path.parent))
    return mod


def claims_from_paths(paths) -> list[Claim]:
    """Claims from test files (``test_*.py`` / ``*_test.py`` inside directories) at ``paths``."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(q for q in p.rglob("*.py") if q.name.startswith("test_") or q.name.endswith("_test.py"))
        elif p.exists():
            files.append(p)
        else:
            raise FileNotFoundError(f"claim test path {str(p)!r} does not exist")
    out = []
    for f in files:
        try:
            out += claims_from_module(_import_path(f))
        except Exception as exc:  # shown as a failing claim, never a crash of dmf-verify
            out.append(_broken(str(f), exc))
    return out


def _broken(where: str, exc: Exception) -> Claim:
    msg = f"user claim tests {where} failed to load: {type(exc).__name__}: {exc}"

    def fail(_seed):
        raise ImportError(msg)

    return Claim(id=f"import-error.user.{Path(where).stem}", source=where, statement=r"\text{import error}",
                 verify=fail, control=fail, tolerance=0.0, tolerance_reason="-", control_description="-")


def configured_paths(cwd: str | os.PathLike | None = None) -> list[str]:
    """Paths from ``$DMF_VERIFY_TESTS`` plus ``[tool.dmf-verify] claim-tests`` of ./pyproject.toml."""
    paths = [p for p in os.environ.get(ENV, "").split(os.pathsep) if p]
    root = Path(cwd) if cwd is not None else Path.cwd()
    pp = root / "pyproject.toml"
    if pp.is_file():
        import tomllib

        try:
            cfg = tomllib.loads(pp.read_text()).get("tool", {}).get("dmf-verify", {})
        except tomllib.TOMLDecodeError:
            cfg = {}
        paths += [str(root / p) for p in cfg.get("claim-tests", [])]
    return paths


def discover() -> list[Claim]:
    """The user claims configured for this directory (empty when none are configured)."""
    try:
        paths = configured_paths()
        return claims_from_paths(paths) if paths else []
    except Exception as exc:
        return [_broken(os.environ.get(ENV, "pyproject.toml"), exc)]
