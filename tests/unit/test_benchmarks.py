"""paperdag.benchmarks: per-paper sums of benchmark files against their budgets."""
from __future__ import annotations

from pathlib import Path

from paperdag.benchmarks import paper_times, summary_markdown

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path: Path, *rows: tuple[float, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"{s}\t0:00:00\t1\t1\t1\t1\t0\t0\t50\t{cpu}\n" for s, cpu in rows))


def test_sums_the_latest_row_per_job_and_judges_the_budget(tmp_path: Path):
    tmp_path = tmp_path / "benchmarks"
    _bench(tmp_path / "a" / "train" / "x.tsv", (100.0, 90.0), (10.0, 8.0))  # rerun: the last row counts
    _bench(tmp_path / "a" / "report.tsv", (2.0, 1.0))
    _bench(tmp_path / "b" / "train.tsv", (50.0, 45.0))
    times = paper_times(tmp_path)
    assert (times["a"].jobs, times["a"].cpu, times["a"].longest) == (2, 9.0, 10.0)
    text = summary_markdown(tmp_path, {"cpu_seconds": {"a": 10, "b": 40}, "total_wall_minutes": 30})
    assert "| a | 2 | 12 | 9 | 10 | n/a | 10 | yes |" in text
    assert "| b | 1 | 50 | 45 | 50 | n/a | 40 | **no** (+5 s) |" in text
    assert "54 job CPU-s" in text and "within the 30-minute goal" in text
    assert "**over**" in summary_markdown(tmp_path, {"total_wall_minutes": 0.1})


def test_import_share_comes_from_the_last_run_in_each_log(tmp_path: Path):
    bench, logs = tmp_path / "benchmarks", tmp_path / "logs"
    _bench(bench / "a" / "train" / "x.tsv", (40.0, 30.0))
    _bench(bench / "a" / "report.tsv", (10.0, 5.0))  # no log: left out of the share
    (logs / "a" / "train").mkdir(parents=True)
    (logs / "a" / "train" / "x.log").write_text(
        "t INFO paperdag: start a train (scale=default, threads=1; 99.0 s of start-up: interpreter and imports)\n"
        "t INFO paperdag: start a train (scale=default, threads=1; 3.0 s of start-up: interpreter and imports)\n"
        "t INFO paperdag.training: imported Lightning in 7.0 s\n")
    times = paper_times(bench)
    assert (times["a"].imports, times["a"].wall_logged) == (10.0, 40.0)
    assert "| a | 2 | 50 | 35 | 40 | 25% |" in summary_markdown(bench, {})


def test_a_jobs_own_cpu_line_replaces_the_sampled_benchmark_cpu(tmp_path: Path):
    """The last finished run's logged CPU (exact) wins over Snakemake's 30-s sample; a log whose last
    run did not finish (no done line after its last start) falls back to the benchmark."""
    bench, logs = tmp_path / "benchmarks", tmp_path / "logs"
    _bench(bench / "a" / "x.tsv", (40.0, 7.0))  # sampled: 7 s of CPU for a 40-s job
    _bench(bench / "a" / "y.tsv", (20.0, 12.0))
    (logs / "a").mkdir(parents=True)
    start = "t INFO paperdag: start a (scale=default, threads=1; 2.0 s of start-up: interpreter and imports)\n"
    done = "t INFO paperdag: done a in 38.0 s (39.5 s CPU in this process, start-up included)\n"
    (logs / "a" / "x.log").write_text(start + done)
    (logs / "a" / "y.log").write_text(
        start + "t INFO paperdag: done a in 9.0 s (11.0 s CPU in this process, start-up included)\n" + start)
    times = paper_times(bench)
    assert times["a"].cpu == 39.5 + 12.0 and times["a"].cpu_exact == 1
    assert "exact) for 1 of 2 jobs" in summary_markdown(bench, {})
