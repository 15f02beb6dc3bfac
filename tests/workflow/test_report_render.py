"""The HTML report as a reader sees it: rendered by headless Chromium (the page is a JavaScript
app), its front page must show the scorecard as tables, not Markdown pipes in a code panel.

Checked on the DOM after the page's scripts ran (`--dump-dom`); a screenshot of the front page
is written beside it for a person (`report.png` in the test's folder). The same by hand:
`chromium --headless --screenshot=report.png --window-size=1400,1100 file://$PWD/results/report.html`.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import snakemake

pytestmark = pytest.mark.workflow

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=10000"]


class _Tables(HTMLParser):
    """Captions and header cells of every <table>, and the text of every <pre>/<code> block."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.blocks: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.tables.append({"caption": "", "heads": [], "cells": []})
        if tag in ("pre", "code"):
            self.blocks.append("")
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not self._stack:
            return
        if any(t in ("pre", "code") for t in self._stack) and self.blocks:
            self.blocks[-1] += data
        if self.tables and "table" in self._stack:
            table, where = self.tables[-1], self._stack[-1]
            if where == "caption":
                table["caption"] += data.strip()
            elif where == "th":
                table["heads"].append(data.strip())
            elif where == "td":
                table["cells"].append(data.strip())


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium here (Debian: apt-get install chromium)")
def test_report_front_page_shows_the_scorecard_as_tables(smoke_copy: Path, tmp_path: Path) -> None:
    report = smoke_copy / "results" / "smoke" / "report.html"
    snakemake(smoke_copy, "--config", "scale=smoke", "--report", str(report))
    url = report.resolve().as_uri()
    dom = subprocess.run([CHROMIUM, *FLAGS, "--dump-dom", url], capture_output=True, text=True, timeout=180).stdout
    parsed = _Tables()
    parsed.feed(dom)
    papers = sorted(json.loads(p.read_text())["paper"] for p in (smoke_copy / "results" / "smoke").glob("*/claims.json"))
    scores = [t for t in parsed.tables if t["caption"] == "Replication score per paper"]
    assert scores, f"no rendered scorecard table among {[t['caption'] for t in parsed.tables]}"
    assert {"paper", "score", "pass", "fail", "inconclusive", "defective"} <= set(scores[0]["heads"])
    assert set(papers) <= set(scores[0]["cells"]), "a paper is missing from the rendered scorecard"
    assert any("negative control" in t["heads"] for t in parsed.tables), "no rendered per-claim table"
    piped = [b[:120] for b in parsed.blocks if "|---|" in b or "| paper |" in b]
    assert not piped, f"the scorecard shows as Markdown pipes in a code block: {piped}"
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *FLAGS, "--window-size=1400,1100", f"--screenshot={shot}", url], capture_output=True,
                   timeout=180)
    assert shot.stat().st_size > 20_000, "the screenshot of the report is blank"
