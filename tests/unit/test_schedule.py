"""paperdag.schedule: critical-path job priorities from the last run's benchmark files."""

from __future__ import annotations

from pathlib import Path

import yaml

from paperdag import schedule
from paperdag.config import resolve_paper

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
ROOT = Path(__file__).resolve().parents[2]


def _bench(path: Path, *seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"{s}\t0:00:00\t1\t1\t1\t1\t0\t0\t50\t{s}\n" for s in seconds))


def _default_cfg(paper: str) -> dict:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["scale"] = "default"
    return resolve_paper(config, paper)


def test_expected_seconds_is_the_last_run_and_zero_without_history(tmp_path: Path):
    _bench(tmp_path / "x.tsv", 100.0, 12.5)
    assert schedule.expected_seconds(tmp_path / "x.tsv") == 12.5  # cpu_time = wall here
    assert schedule.expected_seconds(tmp_path / "missing.tsv") == 0.0
    (tmp_path / "empty.tsv").write_text(HEADER)
    assert schedule.expected_seconds(tmp_path / "empty.tsv") == 0.0


def test_paths_overlap_matches_wildcards_within_a_segment_only():
    assert schedule.paths_overlap("runs/{task}/seed{seed}/m.json", "runs/toy/seed0/m.json")
    assert not schedule.paths_overlap("runs/{task}/seed{seed}/m.json", "runs/toy/s0/m.json")
    assert not schedule.paths_overlap("runs/{task}/m.json", "runs/toy/extra/m.json")  # a wildcard never spans "/"
    assert schedule.paths_overlap("data/{dataset}/manifest.json", "data/{name}/manifest.json")
    assert not schedule.paths_overlap("digits/models.pt", "digits/real_stats.npz")


def test_consumers_follow_the_papers_own_patterns():
    """The two heavy-to-heavy edges of the default DAG, found from the specs alone."""
    f_distill = schedule.consumers("f_distill", _default_cfg("f_distill"))
    assert f_distill["f_distill_digits_prep"] == ["f_distill_digits"]
    assert f_distill["f_distill_toy"] == ["f_distill_report"]
    scaling = schedule.consumers("scaling_wisdom", _default_cfg("scaling_wisdom"))
    assert set(scaling["scaling_wisdom_train_sweep_small"]) == {
        "scaling_wisdom_train_batch_reg",
        "scaling_wisdom_train_controls",
        "scaling_wisdom_report",
    }
    assert scaling["scaling_wisdom_train_sweep_128"] == ["scaling_wisdom_report"]


def test_a_short_job_that_feeds_a_long_one_outranks_a_long_job_alone(tmp_path: Path):
    """f_distill: digits_prep (60 s) leads to digits (380 s); the toy job (240 s) leads only to the report."""
    bench = tmp_path / "benchmarks"
    _bench(bench / "f_distill" / "digits_prep.tsv", 60.0)
    _bench(bench / "f_distill" / "digits.tsv", 380.0)
    _bench(bench / "f_distill" / "toy" / "normal.tsv", 240.0)
    _bench(bench / "f_distill" / "report.tsv", 10.0)
    chains = schedule.paper_chains("f_distill", _default_cfg("f_distill"), bench)
    assert chains["f_distill_digits_prep"] == 390.0  # digits, then its report
    assert chains["f_distill_toy"] == 10.0
    assert chains["f_distill_report"] == 0.0
    assert 60.0 + chains["f_distill_digits_prep"] > 240.0 + chains["f_distill_toy"]
    assert schedule.longest_benchmark(bench / "f_distill" / "toy", "{init}") == 240.0
    assert schedule.paper_chains("f_distill", _default_cfg("f_distill"), tmp_path / "none")["f_distill_digits_prep"] == 0.0


def test_a_run_recorded_under_load_expects_its_cpu_time_not_its_wait(tmp_path: Path):
    """Wall 300 s but 100 s of CPU (it waited for a core): expect 100 + the 30-s sampling interval."""
    (tmp_path / "busy.tsv").write_text(HEADER + "300.0\t0:05:00\t1\t1\t1\t1\t0\t0\t33\t100.0\n")
    assert schedule.expected_seconds(tmp_path / "busy.tsv") == 130.0
    assert schedule.last_run_seconds(tmp_path / "busy.tsv") == 300.0
    (tmp_path / "threads.tsv").write_text(HEADER + "50.0\t0:00:50\t1\t1\t1\t1\t0\t0\t390\t195.0\n")
    assert schedule.expected_seconds(tmp_path / "threads.tsv") == 50.0  # several threads: CPU exceeds wall
