"""Name a function by ``"package.module:attribute"`` and import it only when it is called.

Claim modules use it for ``derive=``: a symbolic derivation needs sympy (about half a second
to import), but listing or checking a claim does not, so ``dmf-verify check balancedness.gd``
should not pay for it::

    from dmf_verify.checks.deferred import deferred

    CLAIM = Claim(..., derive=deferred("dmf_verify.theory.balancedness:balancedness"))

>>> f = deferred("math:sqrt")
>>> f(16.0), f.target
(4.0, 'math:sqrt')
"""

from __future__ import annotations

import importlib

from dmf_verify.errors import InvalidArgument


class deferred:  # noqa: N801  (used like a function)
    """A callable standing for ``module:attribute``; the module is imported on the first call."""

    __slots__ = ("target", "_func")

    def __init__(self, target: str):
        module, sep, attr = str(target).partition(":")
        if not sep or not module or not attr:
            raise InvalidArgument(f"deferred target must read 'package.module:attribute', got {target!r}")
        self.target = target
        self._func = None

    def resolve(self):
        """The function itself (imports its module)."""
        if self._func is None:
            module, _, attr = self.target.partition(":")
            obj = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
            self._func = obj
        return self._func

    def __call__(self, *args, **kwargs):
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"deferred({self.target!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, deferred) and other.target == self.target

    def __hash__(self) -> int:
        return hash(("deferred", self.target))


__all__ = ["deferred"]
