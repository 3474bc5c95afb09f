"""The claim registry: the source-level index agrees with the imported modules, and look-ups import little."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dmf_verify.checks import registry
from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.checks.errors import UnknownClaimError

ROOT = Path(__file__).resolve().parents[1]


def test_static_index_agrees_with_the_imported_modules():
    infos, dynamic = registry._static()
    assert infos, "no claim module is written literally: the index is useless"
    by_module: dict[str, set] = {}
    for info in infos.values():
        by_module.setdefault(info.module, set()).add((info.id, info.source, info.slow))
    for module, expected in by_module.items():
        got = {(c.id, c.source, c.slow) for c in registry._module_claims(module)}
        assert got == expected, module
    full = {c.id: c for c in registry.all_claims()}
    assert set(infos) <= set(full)
    listed = {i.id for i in registry.index()}
    assert listed == set(full)
    # only modules that cannot be read literally are imported on every look-up
    assert "dmf_verify.checks.claims.user_tests" in dynamic
    assert len(dynamic) <= 2, f"claim modules the index cannot read (imported on every `list`): {dynamic}"


@pytest.mark.parametrize("source,expected", [
    ('CLAIM = Claim(id="a", source="s", tolerance=1.0)', [("a", "s", False)]),
    ('CLAIMS = [Claim(id="a", source="s", slow=True), Claim(id="b", source="t")]',
     [("a", "s", True), ("b", "t", False)]),
    ('SRC = "P1"\nCLAIM = Claim(id="a", source=SRC)', [("a", "P1", False)]),
    ('CLAIM = Claim("a", "s", "stmt")', [("a", "s", False)]),
    ('CLAIM = Claim(id="a" "b", source=("x" "y"))', [("ab", "xy", False)]),
    ('import x\ny = 2', []),
    ('CLAIMS = build()', None),
    ('CLAIM = Claim(id=f"a{1}", source="s")', None),
    ('CLAIM = Claim(**kw)', None),
    ('CLAIMS = [Claim(id="a", source="s")]\nCLAIMS.append(Claim(id="b", source="s"))', None),
    ('CLAIMS = [Claim(id="a", source="s")]\nCLAIMS = CLAIMS + []', None),
    ('from m import discover as CLAIMS', None),
    ('CLAIM = Claim(id="a", source="s", slow=FLAG)', None),
    ('def f(:', None),
])
def test_static_claims_reads_only_what_is_literal(source, expected):
    assert registry.static_claims(source) == expected


def _fresh(monkeypatch):
    for name in ("_REGISTRY", "_STATIC"):
        monkeypatch.setattr(registry, name, None)
    monkeypatch.setattr(registry, "_MODULE_CLAIMS", {})
    monkeypatch.setattr(registry, "_EXTRA", {})


def test_get_imports_only_the_defining_module():
    code = ("import sys; from dmf_verify.checks import registry; c = registry.get('balancedness.gd'); "
            "mods = sorted(m for m in sys.modules if m.startswith('dmf_verify.checks.claims.') "
            "and not m.endswith('__init__')); print(c.id, mods)")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    ident, mods = res.stdout.split(" ", 1)
    assert ident == "balancedness.gd"
    loaded = {m for m in eval(mods) if m.count(".") >= 4}  # modules, not the paper packages
    assert loaded == {"dmf_verify.checks.claims.general.balancedness"}, loaded


def test_prefix_and_unknown_ids(monkeypatch):
    _fresh(monkeypatch)
    assert [c.id for c in registry.select(["balancedness.*"])] == ["balancedness.flow", "balancedness.gd"]
    with pytest.raises(UnknownClaimError, match="no claim id starts with"):
        registry.select(["zzz.*"])
    with pytest.raises(UnknownClaimError, match="similar: balancedness"):
        registry.get("balancedness.nope")


def test_a_broken_module_reports_error_under_the_claims_own_id(monkeypatch):
    _fresh(monkeypatch)
    info = registry.ClaimInfo("broken.claim", "nowhere", False, "dmf_verify.checks.claims.no_such_module_xyz")
    monkeypatch.setattr(registry, "_STATIC", ({"broken.claim": info}, []))
    c = registry.get("broken.claim")
    r = c.check()
    assert c.id == "broken.claim" and r.status == "ERROR" and "failed to import" in r.message


def test_index_and_module_disagreeing_is_an_error(monkeypatch):
    _fresh(monkeypatch)
    info = registry.ClaimInfo("balancedness.renamed", "x", False, "dmf_verify.checks.claims.general.balancedness")
    monkeypatch.setattr(registry, "_STATIC", ({"balancedness.renamed": info}, []))
    with pytest.raises(registry.InvalidArgument, match="disagree"):
        registry.get("balancedness.renamed")


def test_registered_claims_are_found(monkeypatch):
    _fresh(monkeypatch)
    c = Claim(id="zz.extra", source="test", statement="x", verify=lambda s: Measurement(0.0),
              control=lambda s: Measurement(1.0), tolerance=0.5, tolerance_reason="test",
              control_description="test")
    registry.register(c)
    assert registry.get("zz.extra") is c
    assert "zz.extra" in {i.id for i in registry.index()}
    assert registry.select(["zz.*"]) == [c]


def test_count_slow_matches_the_index():
    assert registry.count_slow() == sum(1 for c in registry.all_claims() if c.slow)
    assert registry.count_slow(["balancedness.gd"]) == 0


def test_claim_sources_cite_the_papers_numbering_and_docs_theory_covers_every_claim():
    import re

    theory = (ROOT / "docs" / "theory.md").read_text()
    infos, _ = registry._static()
    for info in infos.values():
        assert "THEORY" not in info.source, info.id
        assert re.match(r"(Arora et al\. 2019, |Chou et al\., |Soltanolkotabi, Stöger & Xie 2023, |this project)",
                        info.source), (info.id, info.source)
        if info.source.startswith("Arora et al. 2019"):
            assert re.search(r"(Lemma|Theorem|Proposition|Corollary|Conjecture|Section|Figure|Appendix|eqs?\.) ?\d",
                             info.source), (info.id, info.source)
        assert f"`{info.id}`" in theory, f"docs/theory.md has no entry for {info.id}"


def test_no_citation_of_a_file_outside_the_repository():
    """The project keeps its own account of the mathematics (docs/theory.md); no file cites outside notes."""
    res = subprocess.run(["git", "grep", "-n", "THEORY" + ".md"], cwd=ROOT, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        pytest.skip("not a git checkout")
    assert res.stdout == "", res.stdout


def test_no_top_level_imports_outside_the_namespace():
    res = subprocess.run(["git", "grep", "-nE", r"^(from|import) (theory|numerics|checks)\b"], cwd=ROOT,
                         capture_output=True, text=True)
    if res.returncode not in (0, 1):
        pytest.skip("not a git checkout")
    assert res.stdout == "", res.stdout


def test_a_prefix_leaves_slow_claims_out_unless_asked_and_says_how_many():
    light = registry.select(["arora2019.*"])
    full = registry.select(["arora2019.*"], include_slow=True)
    slow = [c.id for c in full if c.slow]
    assert slow and not any(c.slow for c in light)
    assert {c.id for c in full} - {c.id for c in light} == set(slow)
    assert registry.count_slow(["arora2019.*"]) == len(slow)
    # an exact id is asked for, so it runs (and is not counted as left out)
    assert [c.id for c in registry.select([slow[0]])] == [slow[0]]
    assert registry.count_slow(["arora2019.*", slow[0]]) == len(slow) - 1
    # a prefix that matches only slow claims selects them
    only = registry.select([slow[0] + "*"])
    assert only and all(c.slow for c in only) and registry.count_slow([slow[0] + "*"]) == 0
