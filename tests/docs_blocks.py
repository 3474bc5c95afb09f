"""Run the ```python blocks of a Markdown page, in order, in one namespace (used by tests/test_docs.py).

    python tests/docs_blocks.py PAGE.md        # exit 0 when every block ran

Rules (docs/user_tests.md, "Examples in the docs run"):

* every fenced block whose info string is ``python`` (or ``py``/``python3``) runs, top to bottom,
  in one module namespace per page, so a later block may use what an earlier one defined;
* a block that starts with ``>>>`` runs as a doctest (output compared);
* a function named ``test_*`` that a block defines is then called the way pytest would, with the
  fixtures ``dmf`` / ``dmf_seed`` (seed 0) / ``tmp_path``; one marked ``dmf_claim`` runs as a
  claim of ``dmf-verify check`` instead and must PASS (its control must be rejected);
* a block whose first line is a comment ``# not run: REASON`` is skipped (the reason is shown
  in the rendered page and printed here); keep them rare;
* the working directory is a fresh temporary folder; hypothesis tests without their own
  ``@settings`` get 10 examples and no deadline.

Prints one line per block (``PAGE:LINE ok 0.12 s CPU``) and, for a failure, the traceback with
line numbers of the Markdown file.
"""

from __future__ import annotations

import doctest
import inspect
import re
import sys
import time
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
LANGS = {"python", "py", "python3"}
NOT_RUN = re.compile(r"^#\s*not run\b\s*[:\-]?\s*(?P<reason>.*)$", re.IGNORECASE)


@dataclass
class Block:
    line: int          # 1-based line of the first code line in the page
    code: str
    skip: str | None   # the reason given by a "# not run: ..." first line


def python_blocks(text: str) -> list[Block]:
    """The fenced Python blocks of a Markdown text, in order."""
    lines = text.splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group("indent"), m.group("fence"), m.group("info").strip()
        lang = info.split()[0].lower() if info else ""
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            close = FENCE.match(lines[j])
            if close and close.group("fence")[0] == fence[0] and len(close.group("fence")) >= len(fence) \
                    and not close.group("info").strip():
                break
            ln = lines[j]
            body.append(ln[len(indent):] if ln.startswith(indent) else ln.lstrip())
            j += 1
        if lang in LANGS:
            code = "\n".join(body) + "\n"
            first = next((b.strip() for b in body if b.strip()), "")
            nr = NOT_RUN.match(first)
            out.append(Block(i + 2, code, (nr.group("reason").strip() or "") if nr else None))
        i = j + 1
    return out


def _fixtures(func, tmp: Path):
    from dmf_verify.checks.pytest_plugin import DMF

    available = {"dmf": lambda: DMF(0, f"{func.__module__}::{func.__name__}"), "dmf_seed": lambda: 0,
                 "tmp_path": lambda: tmp}
    params = inspect.signature(func).parameters
    need = [p for p, v in params.items() if v.default is inspect.Parameter.empty]
    missing = [p for p in need if p not in available]
    if missing:
        return None, missing
    return {p: available[p]() for p in need}, []


def _run_tests(module, before: set, where: str, tmp: Path, done: set) -> list[str]:
    """Call the test_* functions a block defined; returns notes for those it could not call."""
    from dmf_verify.checks.user_claims import _marks, claims_from_module

    notes = []
    new = [(n, f) for n, f in vars(module).items() if n.startswith("test_") and n not in before and callable(f)]
    if any(_marks(f) for _, f in new):
        for c in claims_from_module(module):
            if c.id in done:
                continue
            done.add(c.id)
            r = c.check()
            if r.status != "PASS":
                raise AssertionError(f"{where}: the dmf_claim {c.id!r} reported {r.status}: {r.message}")
            print(f"    claim {c.id}: PASS (error {r.error:.3g}, tolerance {r.tolerance:.3g}, control "
                  f"{r.control_error:.3g})")
    for n, f in new:
        if _marks(f):
            continue
        kwargs, missing = _fixtures(f, tmp)
        if kwargs is None:
            notes.append(f"{n} not called: needs fixtures {missing}")
            continue
        f(**kwargs)
        print(f"    {n}: passed")
    return notes


def run_page(page: Path) -> int:
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    module = types.ModuleType("docs_page_" + re.sub(r"\W", "_", page.stem))
    module.__file__ = str(page)
    sys.modules[module.__name__] = module
    ns = module.__dict__
    try:
        from hypothesis import settings

        settings.register_profile("docs", max_examples=10, deadline=None)
        settings.load_profile("docs")
    except ImportError:
        pass
    tmp = Path.cwd()
    failed = 0
    done: set = set()
    for b in blocks:
        where = f"{page}:{b.line}"
        if b.skip is not None:
            print(f"{where} skipped (not run: {b.skip or 'no reason given'})")
            if not b.skip:
                print(f"{where} FAILED: a '# not run:' marker must give its reason")
                failed += 1
            continue
        start = time.process_time()
        before = set(ns)
        try:
            if b.code.lstrip().startswith(">>>"):
                test = doctest.DocTestParser().get_doctest(b.code, ns, where, str(page), b.line - 1)
                runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
                runner.run(test, out=sys.stdout.write)
                if runner.failures:
                    raise AssertionError(f"{runner.failures} doctest example(s) failed")
            else:
                exec(compile("\n" * (b.line - 1) + b.code, str(page), "exec"), ns)  # line numbers = the page's
                for note in _run_tests(module, before, where, tmp, done):
                    print(f"    {note}")
        except BaseException as exc:  # report every failure of a documented example
            if isinstance(exc, KeyboardInterrupt):
                raise
            failed += 1
            print(f"{where} FAILED ({type(exc).__name__})")
            traceback.print_exc(file=sys.stdout)
            continue
        print(f"{where} ok {time.process_time() - start:.2f} s CPU")
    return 1 if failed else 0


if __name__ == "__main__":
    import os
    import tempfile

    page = Path(sys.argv[1]).resolve()
    with tempfile.TemporaryDirectory(prefix="dmf-docs-") as where:  # files a block writes land here
        os.chdir(where)
        sys.exit(run_page(page))
