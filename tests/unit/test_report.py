"""results/README.md and numbers.tex: content, determinism, LaTeX macro names."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from paperdag.claims import ClaimResult, write_claims
from paperdag.report import PaperProducts, macro_name, numbers_tex, readme_markdown, tex_number, write_results_front


def make_paper(root: Path, paper: str, claims: list[ClaimResult]) -> PaperProducts:
    d = root / paper
    write_claims(d / "claims.json", paper, "default", claims)
    (d / "tables").mkdir(parents=True)
    (d / "tables" / "headline.md").write_text("| method | error |\n|---|---|\n| ours | 0.5 |\n")
    (d / "tables" / "other.md").write_text("| a |\n|---|\n| 1 |\n")
    (d / "figures").mkdir()
    (d / "figures" / "curve.png").write_bytes(b"\x89PNG")
    return PaperProducts(paper, d / "claims.json", [d / "tables/headline.md", d / "tables/other.md"],
                         [d / "figures/curve.png"])


@pytest.fixture
def papers(tmp_path: Path) -> list[PaperProducts]:
    return [
        make_paper(tmp_path, "monge_gap", [
            ClaimResult("beats_mlp_2x", "MG beats MLP", "ratio <= 1/3", 0.123456, "pass", paper_value="0.1"),
            ClaimResult("fit_kept", "fit is kept", "S <= floor", 2.5, "fail"),
            ClaimResult("icnn_gap", "vs ICNN", "n/a", None, "not evaluated", detail="missing runs"),
        ]),
        make_paper(tmp_path, "gda", [ClaimResult("gap_50%_smaller", "gap shrinks", "report", 7, "report")]),
    ]


def test_readme_has_a_section_per_paper_with_table_figures_and_claims(papers, tmp_path):
    text = readme_markdown(papers, tmp_path / "README.md")
    assert text.index("## monge_gap") < text.index("## gda")  # the given (config) order
    section = text[text.index("## monge_gap"):text.index("## gda")]
    assert "The Monge gap (Uscidda & Cuturi" in section  # the package's title
    assert "| ours | 0.5 |" in section  # headline table inlined
    assert "[`other`](monge_gap/tables/other.md)" in section
    assert "![monge_gap: curve](monge_gap/figures/curve.png)" in section
    assert "1 passed, 1 failed, 0 reported, 1 not evaluated" in section
    assert "Passed: beats_mlp_2x. Failed: fit_kept." in section
    # the paper's number beside ours, failures in bold, missing values as a dash
    assert "| beats_mlp_2x | MG beats MLP | 0.1 | 0.123456 | ratio <= 1/3 | pass |" in section
    assert "| **fail** |" in section and "| icnn_gap | vs ICNN | — | — |" in section
    assert "| [monge_gap](#monge_gap) | 1 | 1 | 0 | 1 |" in text


def test_numbers_tex_one_macro_per_number(papers):
    tex = numbers_tex(papers)
    defs = dict(re.findall(r"\\newcommand\{\\(\w+)\}\{(.*)\}", tex))
    assert defs["MongeGapBeatsMlpTwoX"] == "0.123"
    assert defs["MongeGapBeatsMlpTwoXPaper"] == "0.1"
    assert defs["MongeGapFitKept"] == "2.5" and defs["MongeGapFitKeptStatus"] == "fail"
    assert defs["MongeGapIcnnGap"] == "--"
    assert defs["GdaGapFiveZeroSmaller"] == "7"
    assert defs["MongeGapClaimsPass"] == "1" and defs["GdaClaimsReport"] == "1"
    assert all(re.fullmatch(r"[A-Za-z]+", name) for name in defs)  # valid LaTeX control words


def test_same_inputs_give_same_bytes_regardless_of_file_order(papers, tmp_path):
    out1, out2 = tmp_path / "a", tmp_path / "b"
    write_results_front(out1 / "README.md", out1 / "numbers.tex", papers)
    write_results_front(out2 / "README.md", out2 / "numbers.tex", papers)
    for name in ("README.md", "numbers.tex"):
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes()
    # claims.json written again (same data): still the same README
    write_claims(papers[1].claims, "gda", "default", [ClaimResult("gap_50%_smaller", "gap shrinks", "report", 7, "report")])
    assert readme_markdown(papers, out1 / "README.md") == (out1 / "README.md").read_text()


def test_macro_names_and_collisions(tmp_path):
    assert macro_name("monge_gap", "l2_uvp") == "MongeGapLTwoUvp"
    with pytest.raises(ValueError):
        macro_name("__", "")
    clash = [make_paper(tmp_path, "gda", [ClaimResult("a_b", "s", "t", 1.0, "pass"),
                                          ClaimResult("a-b", "s", "t", 2.0, "pass")])]
    with pytest.raises(ValueError, match="defined twice"):
        numbers_tex(clash)


def test_tex_number_formats_and_escapes():
    assert tex_number(0.000123456) == "0.000123" and tex_number(12345.6) == "1.23e+04"
    assert tex_number("50% & up_1") == r"50\% \& up\_1"
    assert tex_number(None) == "--" and tex_number(True) == "yes"
