"""Users' pytest tests marked ``dmf_claim`` (see checks/user_claims.py and docs/user_tests.md).

The registry calls ``CLAIMS`` (a callable) on discovery; it returns nothing unless
``$DMF_VERIFY_TESTS`` or ``[tool.dmf-verify] claim-tests`` in ./pyproject.toml names test files.
"""

from dmf_verify.checks.user_claims import discover as CLAIMS  # noqa: N812

__all__ = ["CLAIMS"]
