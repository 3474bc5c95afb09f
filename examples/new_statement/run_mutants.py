"""Run the mutants of mutants.py against this example project and print a table.

    python run_mutants.py [--seed N]

Each mutant is injected into a temporary copy of this folder (gd_balance.py, the claim tests,
pyproject.toml); `dmf-verify check TARGETS --json` runs in that copy, which finds the claims
through its pyproject.toml. Exit status 1 when a mutant survives.
"""

import argparse
import sys
from pathlib import Path

from dmf_verify.checks.mutation import run_mutant

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mutants import MUTANTS  # noqa: E402

COPY = ("gd_balance.py", "test_gd_balance_claims.py", "pyproject.toml")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    survived = 0
    for m in MUTANTS:
        r = run_mutant(m, seed=args.seed, root=HERE, copy=COPY, timeout=120, extra_env={"DMF_VERIFY_TESTS": ""})
        survived += not r.outcome.detected
        statuses = ", ".join(f"{k}={v}" for k, v in r.statuses.items()) or r.message
        print(f"{m.id:42s} {m.kind:18s} {r.outcome.value.upper():8s} {r.seconds:5.1f}s  {statuses}")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
