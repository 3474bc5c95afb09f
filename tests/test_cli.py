"""The dmf-verify command line (run in-process through dmf_verify.checks.cli.main)."""

from __future__ import annotations

import json

from dmf_verify.checks.cli import main


def test_list(capsys):
    assert main(["list", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "arora2019.theorem3" in out and "tolerance" in out


def test_check_json_and_exit_status(capsys):
    assert main(["check", "balancedness.gd", "arora2019.lemma3", "--json", "--seed", "5"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["schema_version"] == 1 and doc["summary"]["passed"] == 2
    data = doc["results"]
    assert [d["id"] for d in data] == ["balancedness.gd", "arora2019.lemma3"]
    assert "[2/2] arora2019.lemma3 PASS" in captured.err  # progress on stderr, stdout stays JSON
    assert all(d["passed"] and d["seed"] == 5 and d["error"] <= d["tolerance"] < d["control_error"] for d in data)


def test_check_table(capsys):
    assert main(["check", "balancedness.*"]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "2 passed, 0 failed" in out


def test_unknown_id_exits_2(capsys):
    assert main(["check", "no.such.claim"]) == 2
    assert "unknown claim id" in capsys.readouterr().err


def test_derive_text_and_latex(capsys):
    assert main(["derive", "balancedness.gd", "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "[ok]" in text and "FAILS" not in text
    assert main(["derive", "balancedness.gd", "--format", "latex"]) == 0
    assert "\\begin{align*}" in capsys.readouterr().out


def test_derive_without_derivation(capsys):
    assert main(["derive", "arora2019.gd_tracks_flow"]) == 2


# --------------------------------------------------------------------------------------------
# CLI-wide conventions (issue 13)
# --------------------------------------------------------------------------------------------
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from dmf_verify.checks.cli import build_parser  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args, cwd=None, env=None, stdout=subprocess.PIPE):
    return subprocess.run([sys.executable, "-m", "dmf_verify.checks.cli", *args], cwd=cwd or ROOT,
                          env=env, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=300)


def test_version(capsys):
    import dmf_verify

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"dmf-verify {dmf_verify.__version__}"


BAD_OPTIONS = [
    (["check", "--seed", "-1"], "--seed", ">= 0"),
    (["check", "--seed", str(2**32)], "--seed", "<= 4294967295"),
    (["check", "--seed", "1.5"], "--seed", "an integer"),
    (["falsify", "theorem3.tangent", "--budget", "-3"], "--budget", ">= 1"),
    (["falsify", "theorem3.tangent", "--budget", "0"], "--budget", ">= 1"),
    (["falsify", "theorem3.tangent", "--seed", "-2"], "--seed", ">= 0"),
    (["report", "--seed", "0,-1"], "--seed", ">= 0"),
    (["report", "--seed", "0,,1"], "--seed", "empty item"),
    (["report", "--out", "/nonexistent-dir/x.tex"], "--out", "does not exist"),
    (["report", "--format", "pdf"], "--format", "invalid choice"),
    (["derive", "balancedness.gd", "--format", "html"], "--format", "invalid choice"),
    (["list", "--colour"], "unrecognized arguments", "--colour"),
    (["falsify", "theorem3.tangent", "--seed", "1", "--database"], "--database", "not allowed with argument --seed"),
]


@pytest.mark.parametrize("argv,option,limit", BAD_OPTIONS, ids=[" ".join(a[0]) for a in BAD_OPTIONS])
def test_bad_option_values_exit_2_with_one_line(argv, option, limit, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and limit in lines[0], captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_out_must_not_be_an_existing_file_for_a_directory_option(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(SystemExit) as exc:
        main(["falsify", "theorem3.tangent", "--database", str(f)])
    assert exc.value.code == 2 and "existing file" in capsys.readouterr().err


def test_project_errors_exit_2_with_one_line(capsys):
    assert main(["check", "no.such.claim"]) == 2
    assert main(["check", "nosuchprefix.*"]) == 2
    assert main(["falsify", "no.such.target"]) == 2
    assert main(["derive", "arora2019.gd_tracks_flow"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and all(line.startswith("dmf-verify: error: ") for line in err), err


def test_every_option_of_the_owned_subcommands_has_help():
    parser = build_parser(experiments=False)
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    owned = ["list", "check", "derive", "report", "falsify"]
    missing = []
    for name in owned:
        for action in sub.choices[name]._actions:
            if not action.help or action.help == "==SUPPRESS==":
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    for action in parser._actions:
        if not action.help:
            missing.append(f"dmf-verify {'/'.join(action.option_strings) or action.dest}")
    assert not missing, missing
    assert {c.dest for c in sub._choices_actions} >= set(owned) | {"experiment"}


def test_broken_pipe_is_quiet_and_exits_141():
    p = subprocess.Popen([sys.executable, "-m", "dmf_verify.checks.cli", "list", "--verbose"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # the reader goes away before the first line (as `| head -0` would)
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 141, err
    assert err == ""


_MODULES_LOADED = ("import sys, contextlib, io; from dmf_verify.checks.cli import main\n"
                   "try:\n    rc = main({argv!r})\nexcept SystemExit as e:\n    rc = e.code\n"
                   "heavy = [m for m in ('scipy', 'sympy', 'torch', 'hypothesis', 'matplotlib', 'cvxpy') "
                   "if m in sys.modules]; "
                   "exp = [m for m in sys.modules if m.startswith('dmf_verify.checks.experiments.')]; "
                   "print('LOADED', rc, heavy, exp, file=sys.stderr)")


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["check", "balancedness.gd"]])
def test_start_up_imports_nothing_heavy(argv):
    """`--help`, `list` and `check balancedness.gd` load neither scipy nor sympy (measured start-up in the README)."""
    res = subprocess.run([sys.executable, "-c", _MODULES_LOADED.format(argv=argv)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("LOADED")]
    assert line, res.stderr
    assert line[0] == "LOADED 0 [] []", (
        f"{line[0]}: a module imported at start-up pulls in a heavy library; import it inside the function that "
        "needs it (for a claim's derive=, use dmf_verify.checks.deferred.deferred)")


def test_check_notes_skipped_slow_claims(monkeypatch, capsys):
    from dmf_verify.checks import registry

    monkeypatch.setattr(registry, "count_slow", lambda ids=None: 3)
    monkeypatch.setattr(registry, "select", lambda ids, include_slow=False: [])
    assert main(["check"]) == 0
    assert "3 slow claim(s) not run (add --slow" in capsys.readouterr().err


def test_list_marks_slow_claims(monkeypatch, capsys):
    from dmf_verify.checks import registry

    monkeypatch.setattr(registry, "index", lambda: [registry.ClaimInfo("x.heavy", "P1, Theorem 2", True)])
    assert main(["list"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("P1, Theorem 2 [slow]")


def test_shared_option_helpers(tmp_path):
    import argparse

    from dmf_verify.checks.cli import comma_list, float_option, int_option, output_dir, output_file

    assert comma_list(int_option(min=1), max_items=3)("1,2") == [1, 2]
    for bad in ("1,2,3,4", "", "a"):
        with pytest.raises(argparse.ArgumentTypeError):
            comma_list(int_option(min=1), max_items=3)(bad)
    assert float_option(min=0, max=1)("0.5") == 0.5
    for bad in ("inf", "-0.1", "2", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            float_option(min=0, max=1)(bad)
    assert output_dir(str(tmp_path / "new" / "deeper")) == tmp_path / "new" / "deeper"
    (tmp_path / "f").write_text("")
    with pytest.raises(argparse.ArgumentTypeError, match="existing file"):
        output_dir(str(tmp_path / "f"))
    assert output_file("-") == "-" and output_file(str(tmp_path / "r.md")) == str(tmp_path / "r.md")
    with pytest.raises(argparse.ArgumentTypeError, match="is a directory"):
        output_file(str(tmp_path))


def test_missing_optional_dependency_is_one_line(monkeypatch, capsys):
    import dmf_verify.checks.cli as cli

    def needs_torch(_argv):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr(cli, "_run", needs_torch)
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dmf-verify[torch]" in err


def test_help_and_version_from_a_subprocess():
    res = _cli("--help")
    assert res.returncode == 0 and "falsify" in res.stdout and "--version" in res.stdout
    res = _cli("experiment", "--help")
    assert res.returncode == 0 and "figure1" in res.stdout


def test_checks_doctests():
    import doctest

    import dmf_verify.checks.cli as cli
    import dmf_verify.checks.deferred as deferred
    import dmf_verify.checks.registry as registry
    import dmf_verify.checks.result_schema as result_schema

    for mod in (cli, deferred, registry, result_schema):
        res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0 and res.attempted > 0, mod.__name__


def test_os_errors_are_one_line(tmp_path, capsys, monkeypatch):
    import dmf_verify.checks.cli as cli

    def unwritable(_argv):
        raise PermissionError(13, "Permission denied", str(tmp_path / "x"))

    monkeypatch.setattr(cli, "_run", unwritable)
    assert main(["report"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Permission denied" in err


def test_env_is_not_needed_for_cli(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DMF_"))}
    res = _cli("check", "balancedness.gd", cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    assert "1 passed, 0 failed" in res.stdout and list(tmp_path.iterdir()) == []
