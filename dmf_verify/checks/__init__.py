"""Claims, the registry and the ``dmf-verify`` command line."""

from dmf_verify.checks.claim import CheckResult, Claim, Measurement, Rate, Status

__all__ = ["Claim", "CheckResult", "Measurement", "Rate", "Status"]
