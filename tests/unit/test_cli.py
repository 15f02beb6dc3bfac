"""`paperdag` verbs that need no Snakemake run: --help of each, reading a dry run, estimates from
benchmark history, status/verify/diff on the committed claims (copies of them in tmp)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from paperdag.cli import VERBS_DOC, _split_stage, main, snake
from paperdag.stage import PROJECT_ROOT, parse_stage_args

ROOT = PROJECT_ROOT
PAPERS = sorted(p.parent.name for p in ROOT.glob("results/*/claims.json"))

DRY_RUN = """\
Building DAG of jobs...
Job stats:
job                 count
----------------  -------
it_bounds_bounds        1
it_bounds_report        1
total                   2


[Sun Dec  6 19:25:51 2026]
rule it_bounds_bounds:
    input: src/paperdag/__init__.py, src/paperdag/config.py
    output: results/smoke/it_bounds/runs/bounds/deep_narrow/d8/n10/metrics.json
    log: results/smoke/logs/it_bounds/bounds/deep_narrow/d8.log
    jobid: 4
    benchmark: results/smoke/benchmarks/it_bounds/bounds/deep_narrow/d8.tsv
    reason: Missing output files: a.json, b.json; Updated input files: src/paperdag/config.py
    wildcards: arch=deep_narrow, d=8
    resources: tmpdir=/tmp, runtime=10, mem_mb=2000, mem=2 GB, mem_mib=1908
Shell command: None

[Sun Dec  6 19:25:51 2026]
localrule scorecard:
    input: results/smoke/it_bounds/claims.json
    output: results/smoke/CLAIMS.md
    jobid: 0
    reason: Input files updated by another job: results/smoke/it_bounds/claims.json
    resources: tmpdir=/tmp
Shell command: None
Job stats:
"""


@pytest.mark.parametrize("verb", ["", *VERBS_DOC])
def test_every_verb_has_help(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main([verb, "--help"] if verb else ["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: paperdag") and (verb in out)
    if verb == "stage":  # the by-hand runner's own options
        assert "--set KEY=VALUE" in out and "wildcards" in out


def test_console_script_entry_point_is_cli_main() -> None:
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"paperdag": "paperdag.cli:main"}


def test_stage_arguments_parse_in_any_order() -> None:
    """The README's form (wildcards, then options) and options-first give the same job."""
    readme = parse_stage_args("monge_gap train benchmark=gaussian job=maps --scale smoke".split())
    first = parse_stage_args("--scale smoke monge_gap train benchmark=gaussian job=maps".split())
    mixed = parse_stage_args("monge_gap train --scale smoke benchmark=gaussian --set a.b=1 job=maps".split())
    assert readme == first
    assert (mixed.wildcards, mixed.settings, mixed.scale) == (["benchmark=gaussian", "job=maps"], ["a.b=1"], "smoke")
    with pytest.raises(SystemExit):
        parse_stage_args("monge_gap train gaussian".split())
    assert _split_stage(["-C", "x", "stage", "a", "--scale", "smoke"]) == (["-C", "x"], ["a", "--scale", "smoke"])
    assert _split_stage(["plan", "--scale", "smoke"]) is None


def test_parse_dry_run_reads_rule_wildcards_reason_and_benchmark() -> None:
    jobs = snake.parse_dry_run(DRY_RUN)
    assert [j.rule for j in jobs] == ["it_bounds_bounds", "scorecard"]
    bounds, card = jobs
    assert bounds.wildcards == "arch=deep_narrow, d=8"
    assert bounds.benchmark == "results/smoke/benchmarks/it_bounds/bounds/deep_narrow/d8.tsv"
    assert snake.short_reason(bounds.reason) == "Missing output files (2); Updated input files: src/paperdag/config.py"
    assert snake.reason_labels(bounds.reason) == ["Missing output files", "Updated input files"]
    assert card.benchmark is None and card.reason.startswith("Input files updated")
    assert snake.parse_dry_run("Building DAG of jobs...\nNothing to be done (all requested files are present).") == []
    assert snake.paper_of("it_bounds_bounds", ["it_bounds", "it"]) == "it_bounds"
    assert snake.paper_of("scorecard", ["it_bounds"]) == snake.CROSS_PAPER


def test_benchmark_seconds_reads_the_last_run(tmp_path: Path) -> None:
    tsv = tmp_path / "b.tsv"
    tsv.write_text("s\th:m:s\tmax_rss\tcpu_time\n12.5\t0:00:12\t100\t20.0\n7.25\t0:00:07\t100\t9.0\n")
    assert snake.benchmark_seconds(tmp_path, "b.tsv") == 7.25
    assert snake.benchmark_seconds(tmp_path, "missing.tsv") is None
    assert snake.benchmark_seconds(tmp_path, None) is None


def test_dag_args_put_targets_before_multi_value_options() -> None:
    args = snake.dag_args("smoke", ["results/smoke/x/claims.json"], ["x_train", "x_report"], ["--cores", "2"])
    assert args == ["results/smoke/x/claims.json", "--cores", "2", "--forcerun", "x_train", "x_report", "--config", "scale=smoke"]


def mini_project(dest: Path) -> Path:
    """Config, schemas and the committed default-scale claims: enough for status/verify/diff."""
    (dest / "workflow").mkdir(parents=True)
    for name in ("Snakefile", "config.yaml"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "workflow" / "schemas", dest / "workflow" / "schemas")
    for paper in PAPERS:
        (dest / "results" / paper).mkdir(parents=True)
        shutil.copy2(ROOT / "results" / paper / "claims.json", dest / "results" / paper / "claims.json")
    return dest


def edit_claims(root: Path, paper: str, edit) -> None:
    path = root / "results" / paper / "claims.json"
    data = json.loads(path.read_text())
    edit(data["claims"])
    path.write_text(json.dumps(data, indent=1))


def test_status_shows_the_committed_replication_scores(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["status", "--no-stale"]) == 0
    out = capsys.readouterr().out
    rubric = json.loads((ROOT / "results" / "rubric.json").read_text())["papers"]
    for paper, entry in rubric.items():
        row = next(line for line in out.splitlines() if line.startswith(paper + " "))
        score = entry["replication_score"]
        assert row.split()[1] == ("-" if score is None else f"{score:.2f}")


def test_verify_exit_codes_on_tampered_claims(tmp_path: Path, capsys, monkeypatch) -> None:
    root = mini_project(tmp_path / "p")
    monkeypatch.chdir(tmp_path)
    for paper in PAPERS:  # every claim passes, is a report or does not apply: exit 0
        edit_claims(
            root, paper, lambda cs: [c.update(status="pass") for c in cs if c["status"] in ("fail", "inconclusive", "defective")]
        )
    assert main(["-C", str(root), "verify"]) == 0
    for bad in ("fail", "inconclusive", "defective"):
        edit_claims(root, "it_bounds", lambda cs, bad=bad: cs[0].update(status=bad))
        assert main(["-C", str(root), "verify"]) == 1
        assert (
            f"FAILED it_bounds/{json.loads((root / 'results/it_bounds/claims.json').read_text())['claims'][0]['id']}"
            in capsys.readouterr().err
        )
    assert main(["-C", str(root), "verify", "--paper", "cs_ib"]) == 0  # only the papers asked for
    (root / "results" / "gda" / "claims.json").unlink()
    assert main(["-C", str(root), "verify"]) == 2
    assert "no claims.json" in capsys.readouterr().err


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_diff_lists_changed_claims_since_a_revision(tmp_path: Path, capsys, monkeypatch) -> None:
    root = mini_project(tmp_path / "p")
    monkeypatch.chdir(tmp_path)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "committed results")
    assert main(["-C", str(root), "diff", "HEAD", "--exit-code"]) == 0
    assert "0 claim change(s)" in capsys.readouterr().out
    first = json.loads((root / "results/it_bounds/claims.json").read_text())["claims"]
    numeric = next(c for c in first[1:-1] if isinstance(c["measured"], (int, float)) and c["measured"])

    def tamper(claims):
        claims[0]["status"] = "fail" if claims[0]["status"] != "fail" else "pass"
        next(c for c in claims if c["id"] == numeric["id"])["measured"] = numeric["measured"] * 3
        claims.pop()

    edit_claims(root, "it_bounds", tamper)
    assert main(["-C", str(root), "diff", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert f"it_bounds/{first[0]['id']}: verdict changed" in out
    assert f"it_bounds/{numeric['id']}: " in out and "drifted" in out
    assert f"it_bounds/{first[-1]['id']}: removed" in out
    assert "3 claim change(s) at scale default from HEAD to the working tree" in out
    git(root, "commit", "-qam", "tampered")
    assert main(["-C", str(root), "diff", "HEAD~1", "HEAD", "--exit-code"]) == 1
    assert "3 claim change(s)" in capsys.readouterr().out
    assert main(["-C", str(root), "diff", "no-such-rev"]) == 2


def test_report_runs_the_two_snakemake_calls(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["report", "--scale", "smoke", "-n"]) == 0
    calls = [line for line in capsys.readouterr().out.splitlines() if line.startswith("paperdag: snakemake")]
    assert calls == [
        "paperdag: snakemake --cores 2 all results/smoke/README.md --config scale=smoke",
        "paperdag: snakemake --cores 1 --config scale=smoke --report results/smoke/report.html",
    ]


def test_unknown_paper_is_one_line_error(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["verify", "--paper", "no_such_paper"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_license_and_citation_files() -> None:
    import yaml

    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "Copyright (c) 2026 paperdag authors" in license_text
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT"
    assert {"message", "title", "authors"} <= set(cff) and cff["authors"][0]["name"] == "paperdag authors"
    version = next(line for line in (ROOT / "pyproject.toml").read_text().splitlines() if line.startswith("version"))
    assert version == f'version = "{cff["version"]}"'
