"""Errors of the claim layer (registry, configuration, command line), on the project's hierarchy."""

from __future__ import annotations

from dmf_verify.errors import DMFError, InvalidArgument


class UnknownClaimError(DMFError, KeyError):
    """A claim id (or falsification target) that is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class ConfigError(InvalidArgument):
    """A malformed configuration: a sweep file, a ``[tool.dmf-verify]`` table, a test path."""


__all__ = ["ConfigError", "UnknownClaimError"]
