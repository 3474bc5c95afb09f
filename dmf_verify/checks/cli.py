"""The ``dmf-verify`` command line.

    dmf-verify list [--verbose]
    dmf-verify check [ID ...] [--seed N] [--json] [--slow]
    dmf-verify derive ID [--format latex|text|latex-document]
    dmf-verify experiment NAME [options]      (dmf-verify experiment --help lists them)

Exit status: 0 when every selected claim passed, 1 when one failed, 2 for usage errors
(unknown claim id, bad option).
"""

from __future__ import annotations

import argparse
import json
import sys

from dmf_verify.checks.errors import UnknownClaimError
from dmf_verify.errors import DMFError


def _fmt(x) -> str:
    if x is None:
        return "-"
    return f"{x:.2e}"


def _cmd_list(args) -> int:
    from dmf_verify.checks import registry

    for c in registry.all_claims():
        flag = " [slow]" if c.slow else ""
        print(f"{c.id:42s} {c.source}{flag}")
        if args.verbose:
            print(f"    statement : {c.statement}")
            print(f"    tolerance : {c.tolerance:.1e} ({c.tolerance_reason})")
            print(f"    control   : {c.control_description}")
            if c.notes:
                print(f"    notes     : {c.notes}")
    return 0


def _cmd_check(args) -> int:
    from dmf_verify.checks import registry
    from dmf_verify.checks.claim import SCHEMA_VERSION, versions

    claims = registry.select(args.ids, include_slow=args.slow)
    results = []
    if not args.json:
        print(f"{'claim':40s} {'status':14s} {'error':>9s} {'tolerance':>9s} {'control':>9s} {'margin':>9s} {'time':>7s}")
    for i, c in enumerate(claims, 1):
        r = c.check(seed=args.seed)
        results.append(r)
        if args.json:  # progress goes to stderr so stdout stays one JSON document
            print(f"[{i}/{len(claims)}] {r.id} {r.status.value} ({r.seconds:.2f} s)", file=sys.stderr, flush=True)
        else:
            print(f"{r.id:40s} {r.status.value:14s} {_fmt(r.error):>9s} {_fmt(r.tolerance):>9s} "
                  f"{_fmt(r.control_error):>9s} {_fmt(r.margin):>9s} {r.seconds:6.2f}s", flush=True)
            if r.message:
                print("    " + r.message.strip().replace("\n", "\n    "))
    n_pass = sum(r.passed for r in results)
    total = sum(r.seconds for r in results)
    if args.json:
        doc = {"schema_version": SCHEMA_VERSION, "seed": args.seed, "versions": versions(),
               "summary": {"claims": len(results), "passed": n_pass, "failed": len(results) - n_pass,
                           "seconds": total},
               "results": [r.to_dict() for r in results]}
        json.dump(doc, sys.stdout, indent=2, allow_nan=False)
        print()
    else:
        print(f"\n{n_pass} passed, {len(results) - n_pass} failed ({total:.1f} s, seed "
              f"{args.seed if args.seed is not None else 'default'})")
    return 0 if all(r.passed for r in results) else 1


def _cmd_derive(args) -> int:
    from dmf_verify.checks import registry
    from dmf_verify.theory.render import render

    c = registry.get(args.id)
    if c.derive is None:
        print(f"claim {c.id!r} has no symbolic derivation", file=sys.stderr)
        return 2
    print(render(c.derive(), args.format), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dmf-verify", description="Verify claims about implicit regularization in deep matrix factorization.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("list", help="list the registered claims")
    s.add_argument("--verbose", "-v", action="store_true", help="show statements, tolerances and controls")
    s.set_defaults(func=_cmd_list)
    s = sub.add_parser("check", help="verify claims (all non-slow claims by default)")
    s.add_argument("ids", nargs="*", help="claim ids, or prefixes ending in '*' (e.g. 'arora2019.*')")
    s.add_argument("--seed", type=int, default=None, help="seed for every random choice (default: each claim's own)")
    s.add_argument("--json", action="store_true", help="print a JSON list of result objects")
    s.add_argument("--slow", action="store_true", help="include claims marked slow")
    s.set_defaults(func=_cmd_check)
    s = sub.add_parser("derive", help="print a claim's symbolic derivation")
    s.add_argument("id")
    s.add_argument("--format", choices=["latex", "text", "latex-document"], default="text")
    s.set_defaults(func=_cmd_derive)
    from dmf_verify.checks.experiments import discover

    s = sub.add_parser("experiment", help="run an experiment (figures, sweeps)")
    esub = s.add_subparsers(dest="experiment", required=True, metavar="NAME")
    for name, exp in discover().items():
        e = esub.add_parser(name, help=exp.help, description=exp.help)
        exp.configure(e)
        e.set_defaults(func=lambda a, _exp=exp: _exp.run(a))
    _extend(sub)
    return p


def _extend(sub) -> None:
    """Further subcommands contributed by modules ``dmf_verify.checks.commands.*`` (each defines ``add(sub)``)."""
    import importlib
    import pkgutil

    try:
        import dmf_verify.checks.commands as cmds
    except ImportError:
        return
    for info in pkgutil.iter_modules(cmds.__path__, prefix=cmds.__name__ + "."):
        mod = importlib.import_module(info.name)
        if hasattr(mod, "add"):
            mod.add(sub)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UnknownClaimError as exc:
        print(f"dmf-verify: error: {exc}", file=sys.stderr)
        return 2
    except DMFError as exc:
        print(f"dmf-verify: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
