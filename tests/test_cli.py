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
