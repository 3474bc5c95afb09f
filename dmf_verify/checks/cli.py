"""The ``dmf-verify`` command line.

    dmf-verify --version
    dmf-verify list [--verbose]
    dmf-verify check [ID ...] [--seed N] [--json] [--slow]
    dmf-verify derive ID [--format latex|text|latex-document]
    dmf-verify report [ID ...] [--format latex|markdown] [--out FILE] [--seed N[,N...]] ...
    dmf-verify falsify TARGET|CLAIM [--budget N] [--seed N] [--database [DIR]] [--json]
    dmf-verify experiment NAME [options]      (dmf-verify experiment --help lists them)

Conventions shared by every subcommand:

* exit status 0 when everything selected passed, 1 when a claim failed (or a counterexample was
  found), 2 for a usage or project error -- always with ONE line on standard error
  (``dmf-verify: error: ...``) and no traceback; 130 on Ctrl-C; 141 when the reader of standard
  output went away (``dmf-verify list | head``);
* every option that takes a value is validated when it is parsed; an out-of-range value exits 2
  with a line naming the option and its limit (``argument --seed: must be an integer >= 0 ...``);
* list-valued options are comma-separated (``--depths 1,2,3``, :func:`comma_list`); repeating an
  option that takes a list appends to it;
* ``--out DIR`` names a directory for commands that write several files (:func:`output_dir`),
  ``--out FILE`` a file for those that write one document (:func:`output_file`, ``-`` is
  standard output);
* results go to standard output, progress to standard error.

Start-up is kept cheap: this module imports only the standard library and the project's error
classes; subcommands import what they need when they run, the experiment modules are imported only
for ``dmf-verify experiment ...``, and ``list`` / ``check ID`` read the claim index without
importing every claim module (``dmf_verify.checks.registry``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

from dmf_verify.checks.errors import UnknownClaimError
from dmf_verify.errors import DMFError

SEED_MAX = 2**32 - 1

#: optional dependencies and the extra that installs them (for the one-line message when one is missing)
OPTIONAL = {"torch": "torch", "dask": "dask", "distributed": "dask"}


# --------------------------------------------------------------------------------------------
# option types: validated at parse time, errors name the limit (argparse adds the option's name)
# --------------------------------------------------------------------------------------------
def _limits(lo, hi, lo_open: bool = False, hi_open: bool = False) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi}")
    return " and ".join(parts)


def int_option(*, min: int | None = None, max: int | None = None) -> Callable[[str], int]:  # noqa: A002
    """An argparse ``type`` for integers in [min, max] (either bound may be None).

    >>> int_option(min=1)("3")
    3
    >>> int_option(min=1)("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be an integer >= 1, got '0'
    """
    what = "an integer" + (f" {_limits(min, max)}" if (min is not None or max is not None) else "")

    def parse(text: str) -> int:
        try:
            value = int(str(text).strip(), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if (min is not None and value < min) or (max is not None and value > max):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


def float_option(*, min: float | None = None, max: float | None = None,  # noqa: A002
                 min_open: bool = False, max_open: bool = False) -> Callable[[str], float]:
    """An argparse ``type`` for finite floats in [min, max] (``min_open``/``max_open`` exclude a bound).

    >>> float_option(min=0.0, min_open=True)("1e-3")
    0.001
    >>> float_option(min=0.0, min_open=True)("nan")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be a finite number > 0.0, got 'nan'
    """
    what = "a finite number" + (f" {_limits(min, max, min_open, max_open)}"
                                if (min is not None or max is not None) else "")

    def parse(text: str) -> float:
        try:
            value = float(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        bad = not math.isfinite(value)
        if min is not None:
            bad |= value <= min if min_open else value < min
        if max is not None:
            bad |= value >= max if max_open else value > max
        if bad:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


#: ``--seed``: an integer in [0, 2**32 - 1] (numpy's limit for every generator)
seed_option = int_option(min=0, max=SEED_MAX)


def comma_list(item: Callable[[str], object], *, min_items: int = 1, max_items: int | None = None,
               unique: bool = False) -> Callable[[str], list]:
    """An argparse ``type`` for comma-separated lists (``--depths 1,2,3``), each item parsed by ``item``.

    Use with ``action="extend"`` so that repeating the option appends (``--seed 0 --seed 5``).

    >>> comma_list(int_option(min=1))("1, 2,3")
    [1, 2, 3]
    >>> comma_list(int_option(min=1))("1,0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: item 2 of '1,0': must be an integer >= 1, got '0'
    """

    def parse(text: str) -> list:
        parts = [p.strip() for p in str(text).split(",")]
        if parts == [""]:
            parts = []
        if any(p == "" for p in parts):
            raise argparse.ArgumentTypeError(f"empty item in the comma-separated list {text!r}")
        if len(parts) < min_items or (max_items is not None and len(parts) > max_items):
            span = f"{min_items}" if max_items == min_items else \
                f"{min_items}..{max_items}" if max_items is not None else f"at least {min_items}"
            raise argparse.ArgumentTypeError(f"needs {span} comma-separated item(s), got {len(parts)} in {text!r}")
        out = []
        for k, p in enumerate(parts, 1):
            try:
                out.append(item(p))
            except argparse.ArgumentTypeError as exc:
                raise argparse.ArgumentTypeError(f"item {k} of {text!r}: {exc}") from None
            except (TypeError, ValueError) as exc:
                raise argparse.ArgumentTypeError(f"item {k} of {text!r}: {exc}") from None
        if unique and len(set(out)) != len(out):
            raise argparse.ArgumentTypeError(f"items must be distinct, got {text!r}")
        return out

    parse.__name__ = "list"
    return parse


def output_dir(text: str) -> Path:
    """An argparse ``type`` for ``--out DIR``: a directory (created later if missing), never a file.

    The command creates it (``mkdir(parents=True, exist_ok=True)``) when it starts writing and
    gives every file it writes a name of its own inside it.
    """
    path = Path(str(text)).expanduser()
    if str(text).strip() == "":
        raise argparse.ArgumentTypeError("must name a directory, got ''")
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"must be a directory, but {str(path)!r} is an existing file")
    anc = path
    while not anc.exists():
        anc = anc.parent
    if not anc.is_dir() or not os.access(anc, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot create or write {str(path)!r} ({str(anc)!r} is not writable)")
    return path


def output_file(text: str) -> str:
    """An argparse ``type`` for ``--out FILE`` (one document); ``-`` means standard output."""
    if text == "-":
        return text
    path = Path(str(text)).expanduser()
    if str(text).strip() == "":
        raise argparse.ArgumentTypeError("must name a file, got ''")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"must be a file, but {str(path)!r} is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"the directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"the directory {str(parent)!r} is not writable")
    return str(path)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on standard error and exit status 2."""

    def error(self, message: str):  # noqa: D102
        line = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {line} (see '{self.prog} --help')\n")


# --------------------------------------------------------------------------------------------
# subcommands
# --------------------------------------------------------------------------------------------
def _fmt(x) -> str:
    if x is None:
        return "-"
    return f"{x:.2e}"


def _cmd_list(args) -> int:
    from dmf_verify.checks import registry

    if not args.verbose:
        for c in registry.index():
            print(f"{c.id:42s} {c.source}{' [slow]' if c.slow else ''}")
        return 0
    for c in registry.all_claims():
        flag = " [slow]" if c.slow else ""
        print(f"{c.id:42s} {c.source}{flag}")
        print(f"    statement : {c.statement}")
        print(f"    tolerance : {c.tolerance:.1e} ({c.tolerance_reason})")
        print(f"    control   : {c.control_description}")
        if c.notes:
            print(f"    notes     : {c.notes}")
    return 0


def _cmd_check(args) -> int:
    import json

    from dmf_verify.checks import registry
    from dmf_verify.checks.claim import SCHEMA_VERSION, versions

    claims = registry.select(args.ids, include_slow=args.slow)
    skipped = 0 if args.slow else registry.count_slow(args.ids)
    results = []
    if not args.json:
        print(f"{'claim':40s} {'status':14s} {'error':>9s} {'tolerance':>9s} {'control':>9s} {'margin':>9s} "
              f"{'time':>7s}", flush=True)
    for i, c in enumerate(claims, 1):
        r = c.check(seed=args.seed)
        results.append(r)
        if args.json:  # progress goes to stderr so stdout stays one JSON document
            print(f"[{i}/{len(claims)}] {r.id} {r.status.value} ({r.seconds:.2f} s)", file=sys.stderr, flush=True)
        else:
            print(f"{r.id:40s} {r.status.value:14s} {_fmt(r.error):>9s} {_fmt(r.tolerance):>9s} "
                  f"{_fmt(r.control_error):>9s} {_fmt(r.margin):>9s} {r.seconds:6.2f}s", flush=True)
            rate = (r.details or {}).get("rate") if isinstance(r.details, dict) else None
            if isinstance(rate, dict) and {"successes", "trials", "lower_bound", "claimed_rate"} <= set(rate):
                # a rate claim: error = 1 - lower bound, tolerance = 1 - claimed rate (so 30/30 always reads 0.095)
                print(f"    rate: {rate['successes']}/{rate['trials']} instances passed; one-sided "
                      f"{rate.get('confidence', 0.95):.0%} Clopper-Pearson lower bound {rate['lower_bound']:.3f} "
                      f"vs the claimed rate {rate['claimed_rate']:.3g} (error = 1 - bound, tolerance = 1 - claimed)")
            if r.message:
                print("    " + r.message.strip().replace("\n", "\n    "))
    n_pass = sum(r.passed for r in results)
    total = sum(r.seconds for r in results)
    if skipped:
        print(f"{skipped} slow claim(s) not run (add --slow, or name them by their exact id)", file=sys.stderr)
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
        print(f"dmf-verify: error: claim {c.id!r} has no symbolic derivation", file=sys.stderr)
        return 2
    print(render(c.derive(), args.format), end="")
    return 0


def build_parser(*, experiments: bool = True) -> argparse.ArgumentParser:
    """The whole parser; ``experiments=False`` leaves the experiment modules unimported (faster start)."""
    from dmf_verify import __version__

    p = Parser(prog="dmf-verify",
               description="Verify claims about implicit regularization in deep matrix factorization.",
               epilog="Exit status: 0 all passed, 1 a claim failed, 2 usage or input error.")
    p.add_argument("--version", action="version", version=f"dmf-verify {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="one of the commands below ('dmf-verify COMMAND --help' for its options)")
    s = sub.add_parser("list", help="list the registered claims", description="List the registered claims: id, "
                       "source in the papers' numbering, and [slow] for claims that `check` runs only with --slow.")
    s.add_argument("--verbose", "-v", action="store_true",
                   help="also show statements, tolerances with their reasons, controls and notes "
                        "(imports every claim module)")
    s.set_defaults(func=_cmd_list)
    s = sub.add_parser("check", help="verify claims (all non-slow claims by default)",
                       description="Verify claims: each compares two independently computed quantities against "
                                   "a justified tolerance and rejects a negative control. Exit 0 when all passed.")
    s.add_argument("ids", nargs="*", metavar="ID",
                   help="claim ids, or prefixes ending in '*' (e.g. 'arora2019.*'); an exact id runs even if slow, a "
                        "prefix selects its slow claims only with --slow (or when all it matches are slow)")
    s.add_argument("--seed", type=seed_option, default=None, metavar="N",
                   help=f"seed for every random choice, 0..{SEED_MAX} (default: each claim's own)")
    s.add_argument("--json", action="store_true",
                   help="print one JSON document (schema: docs/json.md) to standard output; progress goes to "
                        "standard error")
    s.add_argument("--slow", action="store_true", help="include the claims marked [slow] in 'dmf-verify list'")
    s.set_defaults(func=_cmd_check)
    s = sub.add_parser("derive", help="print a claim's symbolic derivation",
                       description="Print a claim's symbolic derivation (sympy, explicit coordinates) with the "
                                   "identities it proved exactly.")
    s.add_argument("id", metavar="ID", help="a claim id (see 'dmf-verify list')")
    s.add_argument("--format", choices=["latex", "text", "latex-document"], default="text",
                   help="text (default), latex (an align* block) or latex-document (a standalone file)")
    s.set_defaults(func=_cmd_derive)
    s = sub.add_parser("experiment", help="run an experiment (figures, sweeps)",
                       description="Run an experiment; 'dmf-verify experiment NAME --help' shows its options.")
    esub = s.add_subparsers(dest="experiment", required=True, metavar="NAME",
                            help="the experiment to run")
    if experiments:
        from dmf_verify.checks.experiments import discover

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

    import dmf_verify.checks.commands as cmds

    for info in pkgutil.iter_modules(cmds.__path__, prefix=cmds.__name__ + "."):
        mod = importlib.import_module(info.name)
        if hasattr(mod, "add"):
            mod.add(sub)


def _command(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the first word that is not an option)."""
    for a in argv:
        if not a.startswith("-"):
            return a
        if a == "--":
            return None
    return None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _run(argv: list[str]) -> int:
    parser = build_parser(experiments=_command(argv) == "experiment")
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            status = _run(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows up here, inside the handler below
        return status
    except BrokenPipeError:
        try:  # the reader went away: silence the final flush at interpreter exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 141
    except KeyboardInterrupt:
        print("dmf-verify: interrupted", file=sys.stderr)
        return 130
    except UnknownClaimError as exc:
        print(f"dmf-verify: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except DMFError as exc:
        print(f"dmf-verify: error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in OPTIONAL:
            raise
        print(f"dmf-verify: error: this needs the optional dependency {top!r}: "
              f"python3 -m pip install 'dmf-verify[{OPTIONAL[top]}]'", file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written: the user's environment, not a bug
        print(f"dmf-verify: error: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
