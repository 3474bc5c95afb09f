"""Every ```python block in docs/*.md and README.md runs (tests/docs_blocks.py says how).

One test per page (its blocks run in order in one namespace, in a subprocess whose working
directory is a fresh temporary folder). A block whose first line is ``# not run: REASON`` is
skipped; the parser and the runner are tested here too. The tutorial of docs/user_tests.md is
also followed word for word as a new project (its ``# file: NAME`` blocks written to a folder,
then ``pytest`` and ``dmf-verify check 'mine.*'`` run there).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNNER = Path(__file__).resolve().parent / "docs_blocks.py"
sys.path.insert(0, str(RUNNER.parent))
from docs_blocks import python_blocks  # noqa: E402

PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
RUNNABLE = [p for p in PAGES if python_blocks(p.read_text(encoding="utf-8"))]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DMF_VERIFY_TESTS", "PYTEST_CURRENT_TEST")}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def _run_page(page: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUNNER), str(page)], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize("page", RUNNABLE, ids=[str(p.relative_to(ROOT)) for p in RUNNABLE])
def test_python_blocks_run(page, tmp_path):
    res = _run_page(page, tmp_path)
    print(res.stdout)
    assert res.returncode == 0, f"a ```python block of {page.relative_to(ROOT)} failed:\n{res.stdout[-6000:]}" \
                                f"\n{res.stderr[-2000:]}"


# --- the parser and the runner ----------------------------------------------------------------
PAGE = '''
    Text.

    ```python
    x = 2
    ```

    ```bash
    this is not python
    ```

    1. In a list:

       ```python
       y = x + 1
       assert y == 3
       ```

    ```python
    # not run: needs a CUDA device
    import torch; torch.ones(1, device="cuda")
    ```

    ```python
    >>> x * 21
    42
    ```

    ````python
    s = """```"""
    ````

    ```python
    def test_uses_the_fixture(dmf):
        dmf.close(y, 3.0, tol=0.0, reason="exact")
    ```
'''


def test_parser_finds_python_blocks_with_lines_and_markers():
    text = textwrap.dedent(PAGE)
    blocks = python_blocks(text)
    assert [b.code.splitlines()[0] for b in blocks] == [
        "x = 2", "y = x + 1", "# not run: needs a CUDA device", ">>> x * 21", 's = """```"""',
        "def test_uses_the_fixture(dmf):"]
    lines = text.splitlines()
    assert all(lines[b.line - 1].strip() == b.code.splitlines()[0].strip() for b in blocks)
    assert [b.skip for b in blocks] == [None, None, "needs a CUDA device", None, None, None]


def test_runner_runs_blocks_in_order_and_reports_the_failing_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent(PAGE))
    res = _run_page(page, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "skipped (not run: needs a CUDA device)" in res.stdout
    assert "test_uses_the_fixture: passed" in res.stdout
    bad = tmp_path / "bad.md"
    bad.write_text("Intro\n\n```python\nimport math\n\nmath.sqrt(undefined_name)\n```\n")
    res = _run_page(bad, tmp_path)
    assert res.returncode == 1
    assert f"{bad}:4 FAILED (NameError)" in res.stdout
    assert f'File "{bad}", line 6' in res.stdout  # the traceback points into the Markdown file


def test_runner_runs_a_documented_claim_and_fails_when_its_control_is_accepted(tmp_path):
    page = tmp_path / "claims.md"
    page.write_text(textwrap.dedent('''
        ```python
        import pytest

        @pytest.mark.dmf_claim("doc.ok", tolerance=0.1, tolerance_reason="exact", control="control_ok")
        def test_ok(dmf):
            dmf.close(1.0, 1.0)

        def control_ok(dmf):
            dmf.close(2.0, 1.0)
        ```

        ```python
        @pytest.mark.dmf_claim("doc.weak", tolerance=0.1, tolerance_reason="exact", control="control_weak")
        def test_weak(dmf):
            dmf.close(1.0, 1.0)

        def control_weak(dmf):
            dmf.close(1.05, 1.0)
        ```
    '''))
    res = _run_page(page, tmp_path)
    assert res.returncode == 1
    assert "claim doc.ok: PASS" in res.stdout
    assert "'doc.weak' reported CONTROL-PASSED" in res.stdout


def test_not_run_markers_give_a_reason():
    for page in PAGES:
        for b in python_blocks(page.read_text(encoding="utf-8")):
            if b.skip is not None:
                assert b.skip, f"{page.relative_to(ROOT)}:{b.line}: '# not run:' needs a reason"


# --- docs/user_tests.md, followed word for word by a new user --------------------------------------
FILE = re.compile(r"^#\s*file:\s*(?P<name>\S+)\s*$")


def _tutorial_files() -> dict[str, str]:
    """The blocks of docs/user_tests.md whose first line is ``# file: NAME`` (any language)."""
    text = (ROOT / "docs" / "user_tests.md").read_text(encoding="utf-8")
    out = {}
    for m in re.finditer(r"^```[a-z]*\n(?P<body>.*?)^```$", text, re.M | re.S):
        body = m.group("body")
        first = body.splitlines()[0] if body else ""
        f = FILE.match(first)
        if f:
            out[f.group("name")] = body
    return out


def test_user_tests_tutorial_works_in_a_fresh_project(tmp_path):
    files = _tutorial_files()
    assert {"test_mine.py", "pyproject.toml"} <= set(files), sorted(files)
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    env = _env()
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers",
                          "-W", "error"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    res = subprocess.run([sys.executable, "-m", "dmf_verify.checks.cli", "check", "mine.*", "--json"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    results = {r["id"]: r for r in json.loads(res.stdout)["results"]}
    assert results, "the tutorial defines no mine.* claim"
    for r in results.values():
        assert r["status"] == "PASS"
        # measured numbers, in the user's units: finite error, control error and margin
        assert 0 <= r["error"] < r["tolerance"] < r["control_error"]
        assert r["margin"] == pytest.approx(r["control_error"] / r["tolerance"])
