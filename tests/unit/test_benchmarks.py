"""paperdag.benchmarks: per-paper sums of benchmark files against their budgets."""
from __future__ import annotations

from pathlib import Path

from paperdag.benchmarks import paper_times, summary_markdown

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path: Path, *rows: tuple[float, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"{s}\t0:00:00\t1\t1\t1\t1\t0\t0\t50\t{cpu}\n" for s, cpu in rows))


def test_sums_the_latest_row_per_job_and_judges_the_budget(tmp_path: Path):
    _bench(tmp_path / "a" / "train" / "x.tsv", (100.0, 90.0), (10.0, 8.0))  # rerun: the last row counts
    _bench(tmp_path / "a" / "report.tsv", (2.0, 1.0))
    _bench(tmp_path / "b" / "train.tsv", (50.0, 45.0))
    times = paper_times(tmp_path)
    assert (times["a"].jobs, times["a"].cpu, times["a"].longest) == (2, 9.0, 10.0)
    text = summary_markdown(tmp_path, {"cpu_seconds": {"a": 10, "b": 40}, "total_wall_minutes": 30})
    assert "| a | 2 | 12 | 9 | 10 | 10 | yes |" in text
    assert "| b | 1 | 50 | 45 | 50 | 40 | **no** (+5 s) |" in text
    assert "54 job CPU-s" in text and "within the 30-minute goal" in text
    assert "**over**" in summary_markdown(tmp_path, {"total_wall_minutes": 0.1})
