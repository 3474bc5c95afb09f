"""Command-line conventions of ``dmf-verify experiment``: --out DIR everywhere, per-experiment file
names, space-separated list options, help text for every option, input errors as exit code 2."""

from __future__ import annotations

import argparse

import pytest

from dmf_verify.checks.cli import build_parser, main


def _experiment_parsers():
    p = build_parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    exp = sub.choices["experiment"]
    esub = next(a for a in exp._actions if isinstance(a, argparse._SubParsersAction))
    return esub.choices


def test_every_experiment_option_has_help_and_out_is_a_directory():
    parsers = _experiment_parsers()
    assert {"figure1", "figure8", "figure4", "figure5", "completion", "sensing", "dynamics", "soltanolkotabi",
            "chou-intervals"} <= set(parsers)
    for name, ep in parsers.items():
        opts = {}
        for a in ep._actions:
            if isinstance(a, argparse._HelpAction) or not a.option_strings:
                continue
            assert a.help and a.help.strip(), (name, a.option_strings)
            assert "comma" not in a.help, (name, a.option_strings)  # list options are space-separated
            for o in a.option_strings:
                opts[o] = a
        assert "--out" in opts, name
        assert opts["--out"].metavar == "DIR" or "directory" in opts["--out"].help, name


def test_completion_help_documents_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["experiment", "completion", "--help"])
    text = capsys.readouterr().out
    for opt in ("--n", "--rank", "--m", "--depth", "--lr", "--tol", "--max-iter", "--rng", "--backend", "--init"):
        assert opt in text


def test_chou_intervals_writes_into_out_dir(tmp_path, capsys):
    out = tmp_path / "c"
    rc = main(["experiment", "chou-intervals", "--spectrum", "1.0", "0.2", "--depth", "2", "--alpha", "0.1",
               "--rank", "1", "--levels", "8", "--out", str(out)])
    assert rc in (0, 1)
    assert (out / "chou_intervals.csv").exists() and (out / "chou_intervals.png").exists()
    assert "containment" in capsys.readouterr().out


@pytest.mark.parametrize("argv,needle", [
    (["--spectrum", "3", "-1"], "--spectrum"),
    (["--rank", "9"], "--rank"),
    (["--alpha", "0"], "--alpha"),
    (["--depth", "1"], "--depth"),
])
def test_chou_intervals_bad_input(tmp_path, capsys, argv, needle):
    assert main(["experiment", "chou-intervals", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_dynamics_depths_are_space_separated(tmp_path):
    assert main(["experiment", "dynamics", "--quick", "--task", "completion", "--depths", "1", "2", "--steps", "40",
                 "--size", "8", "--m", "30", "--out", str(tmp_path), "--no-plot"]) == 0
    assert (tmp_path / "dynamics_completion.csv").exists()
    assert (tmp_path / "dynamics_completion_runs.csv").exists()
