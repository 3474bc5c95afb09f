"""Installing dmf-verify is safe in a researcher's project (issue 13).

A throw-away project with its own ``checks``, ``numerics`` and ``theory`` -- once as packages,
once as plain modules (``checks.py`` ...) -- runs its own ``python -m pytest`` with dmf-verify
installed: the pytest plugin auto-loads (entry point ``dmf_verify.checks.pytest_plugin``), and
``import checks`` / ``numerics`` / ``theory`` resolve to the project's own code, while
``dmf_verify.numerics`` still works next to them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TEST_OWN = '''
    import checks, numerics, theory
    from pathlib import Path

    import dmf_verify
    from dmf_verify.numerics import balanced_factors

    ROOT = Path(__file__).resolve().parents[1]


    def test_own_modules_win():
        for mod in (checks, numerics, theory):
            assert Path(mod.__file__).resolve().is_relative_to(ROOT), mod.__file__
            assert mod.OWNER == "the user's project"
        assert numerics.balanced_factors() == "the user's own function"


    def test_dmf_verify_next_to_them(dmf_seed):
        import numpy as np

        assert Path(dmf_verify.__file__).resolve().parent.name == "dmf_verify"
        fs = balanced_factors(np.diag([2.0, 1.0]), depth=2, seed=dmf_seed)
        assert np.allclose(fs[1] @ fs[0], np.diag([2.0, 1.0]))


    def test_plugin_autoloaded(pytestconfig):
        assert pytestconfig.pluginmanager.has_plugin("dmf_verify")
'''

OWN = 'OWNER = "the user\'s project"\n\n\ndef balanced_factors():\n    return "the user\'s own function"\n'


def _project(root: Path, *, packages: bool) -> Path:
    root.mkdir()
    for name in ("checks", "numerics", "theory"):
        if packages:
            (root / name).mkdir()
            (root / name / "__init__.py").write_text(OWN)
            (root / name / "pytest_plugin.py").write_text("raise ImportError('the user project\\'s file')\n")
        else:
            (root / f"{name}.py").write_text(OWN)
    (root / "tests").mkdir()
    (root / "tests" / "test_own.py").write_text(textwrap.dedent(TEST_OWN))
    (root / "pyproject.toml").write_text('[project]\nname = "someone-elses-lab"\nversion = "0"\n\n'
                                         '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n')
    return root


@pytest.mark.parametrize("packages", [True, False], ids=["packages", "modules"])
def test_a_project_with_its_own_checks_numerics_theory(tmp_path, packages):
    root = _project(tmp_path / "lab", packages=packages)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "DMF_")) and k not in ("PYTHONPATH", "COV_CORE_SOURCE")}
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "3 passed" in res.stdout
    assert "Error while loading plugin" not in res.stdout + res.stderr
