"""The verbs of `paperdag` (see `paperdag.cli`). Each takes the parsed arguments and the
project root, prints for people, and returns the exit status."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from paperdag.claims import DEFECTIVE, FAIL, INCONCLUSIVE, NOT_EVALUATED, PASS, REPORT, compare_claims, failing_claims
from paperdag.cli import snake
from paperdag.config import ConfigError, load_config, resolve_paper
from paperdag.io import read_json
from paperdag.scorecard import scorecard_data
from paperdag.stage import results_root

STATUS_COLUMNS = (PASS, FAIL, INCONCLUSIVE, DEFECTIVE, NOT_EVALUATED, REPORT)


class UsageError(Exception):
    """Bad arguments or config: one line, exit status 2."""


def load(root: Path, scale: str) -> dict[str, Any]:
    """config.yaml at `scale`, validated (NaN, misspelt keys, … stop here, before any job)."""
    try:
        return load_config(root / "config.yaml", root / "workflow" / "schemas", {"scale": scale})
    except ConfigError as err:
        raise UsageError(str(err)) from None


def selected_papers(config: dict[str, Any], wanted: list[str] | None) -> list[str]:
    enabled = list(config["papers"])
    unknown = [p for p in wanted or [] if p not in enabled]
    if unknown:
        raise UsageError(f"unknown or disabled paper(s): {', '.join(unknown)} (enabled: {', '.join(enabled)})")
    return list(dict.fromkeys(wanted)) if wanted else enabled


def claims_path(root: Path, scale: str, paper: str) -> Path:
    return root / results_root(scale) / paper / "claims.json"


def paper_rules(config: dict[str, Any], paper: str) -> list[str]:
    """Every rule of `paper` at the config's scale except checksum-verified downloads (their
    bytes are fixed by the sha256 in config.yaml, so redoing them regenerates nothing)."""
    from paperdag import contract

    cfg = resolve_paper(config, paper)
    return [
        contract.rule_name(paper, stage, value)
        for stage in contract.stages(paper, cfg)
        if stage.name != "download"
        for value in stage.split_values(cfg)
    ]


def from_scratch_args(root: Path, config: dict[str, Any], papers: list[str], targets: list[str]) -> list[str]:
    """Snakemake options that rerun every job the targets need. `--forceall`, unless a selected
    paper has a download stage at this scale: then `--forcerun` of the papers' other rules that
    the targets need (read from a `--forceall` dry run; `--forcerun` of a rule nothing needs
    would create its outputs anyway, e.g. a stage a scale switches off)."""
    from paperdag import contract

    if not any(s.name == "download" for p in papers for s in contract.stages(p, resolve_paper(config, p))):
        return ["--forceall"]
    proc = snake.run_snakemake(root, ["-n", *snake.dag_args(config["scale"], targets, extra=["--forceall"])], capture=True)
    if proc.returncode != 0:
        raise UsageError("snakemake -n --forceall failed:\n" + "\n".join((proc.stdout + proc.stderr).splitlines()[-15:]))
    needed = {job.rule for job in snake.parse_dry_run(proc.stdout + proc.stderr)}
    return ["--forcerun", *[r for p in papers for r in paper_rules(config, p) if r in needed]]


# --- plan ---------------------------------------------------------------------------------


def dry_run(root: Path, scale: str, targets: list[str], extra: list[str] = ()) -> tuple[str, list[snake.PlannedJob]]:
    proc = snake.run_snakemake(root, ["-n", *snake.dag_args(scale, targets, extra=extra)], capture=True)
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise UsageError("snakemake -n failed:\n" + "\n".join(text.strip().splitlines()[-15:]))
    return text, snake.parse_dry_run(text)


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value < 600 else f"{value / 60:.0f} min"


def cmd_plan(args: argparse.Namespace, root: Path) -> int:
    config = load(root, args.scale)
    papers = selected_papers(config, args.paper)
    targets = snake.paper_targets(args.scale, papers) if args.paper else []
    force = from_scratch_args(root, config, papers, targets) if args.from_scratch else []
    text, jobs = dry_run(root, args.scale, targets, force)
    if not jobs:
        print(f"scale {args.scale}: nothing to do (snakemake -n: {snake.NOTHING_TO_DO.lower()}).")
        return 0
    history = Path(results_root(args.scale)) / "benchmarks"
    by_paper: dict[str, list[snake.PlannedJob]] = defaultdict(list)
    for job in jobs:
        by_paper[snake.paper_of(job.rule, config["papers"])].append(job)
    total, timed, untimed = 0.0, 0, 0
    print(f"scale {args.scale}: {len(jobs)} job(s) would run" + (" (from scratch)" if args.from_scratch else ""))
    for paper in sorted(by_paper, key=lambda p: (p == snake.CROSS_PAPER, p)):
        lines, paper_total = [], 0.0
        for job in sorted(by_paper[paper], key=lambda j: (j.rule, j.wildcards)):
            secs = snake.benchmark_seconds(root, job.benchmark)
            if job.benchmark is None:
                estimate = "light"
            elif secs is None:
                estimate, untimed = "no history", untimed + 1
            else:
                estimate, paper_total, timed = f"~{_seconds(secs)}", paper_total + secs, timed + 1
            label = f"{job.rule} {job.wildcards}".strip()
            lines.append(f"  {label:<52} {estimate:>11}  {snake.short_reason(job.reason, args.full_reasons)}")
        total += paper_total
        print(f"\n{paper}: {len(lines)} job(s)" + (f", ~{_seconds(paper_total)} by history" if paper_total else ""))
        print("\n".join(lines))
    print()
    if timed:
        cores = args.cores or 2
        print(
            f"estimate: {_seconds(total)} of summed job wall time for the {timed} job(s) with a history in "
            f"{history}/ (the last recorded run of each); at best about {_seconds(total / cores)} on {cores} cores."
        )
    if untimed:
        print(f"{untimed} job(s) have no history in {history}/ (never timed at this scale): no estimate for them.")
    if not timed and not untimed:
        print("no job has a history; only light jobs (scorecard, results front page): seconds each.")
    return 0


# --- run, status, verify --------------------------------------------------------------------


def print_summary(root: Path, scale: str, papers: list[str]) -> None:
    """Per paper: replication score and status counts; then every failing, inconclusive or
    defective claim with its numbers."""
    files = [claims_path(root, scale, p) for p in papers]
    present = [f for f in files if f.exists()]
    data = scorecard_data(present)
    header = f"{'paper':<16} {'score':>6}  " + "  ".join(f"{s:>{len(s)}}" for s in STATUS_COLUMNS)
    print(header)
    for paper in papers:
        entry = data["papers"].get(paper)
        if entry is None:
            print(f"{paper:<16} {'-':>6}  no claims.json at scale {scale} (not run)")
            continue
        counts = {s: sum(c["status"] == s for c in entry["claims"]) for s in STATUS_COLUMNS}
        score = entry["replication_score"]
        shown = "-" if score is None else f"{score:.2f}"
        print(f"{paper:<16} {shown:>6}  " + "  ".join(f"{counts[s]:>{len(s)}}" for s in STATUS_COLUMNS))
    failed = failing_claims(present)
    if failed:
        print("\nfailing, inconclusive or defective claims:")
        for line in failed:
            print(f"  {line}")


def cmd_run(args: argparse.Namespace, root: Path) -> int:
    config = load(root, args.scale)
    papers = selected_papers(config, args.paper)
    targets = snake.paper_targets(args.scale, papers) if args.paper else []
    extra = [] if args.cores is None else ["--cores", str(args.cores)]
    if args.profile:
        extra += ["--workflow-profile", f"profiles/{args.profile}"]
    if args.from_scratch:
        extra += from_scratch_args(root, config, papers, targets)  # last: --forcerun takes many values
        for paper in papers:  # a finished checkpoint would be resumed: the training would not rerun
            shutil.rmtree(root / results_root(args.scale) / ".ckpt" / paper, ignore_errors=True)
    cmd = snake.dag_args(args.scale, targets, extra=extra)
    print("paperdag: snakemake " + " ".join(cmd), flush=True)
    code = snake.run_snakemake(root, cmd).returncode
    print()
    print_summary(root, args.scale, papers)
    return code


def stale_jobs(root: Path, scale: str, papers: list[str]) -> dict[str, list[snake.PlannedJob]]:
    _, jobs = dry_run(root, scale, [])
    out: dict[str, list[snake.PlannedJob]] = defaultdict(list)
    for job in jobs:
        out[snake.paper_of(job.rule, papers)].append(job)
    return out


def cmd_status(args: argparse.Namespace, root: Path) -> int:
    config = load(root, args.scale)
    papers = selected_papers(config, args.paper)
    print(f"scorecard at scale {args.scale} (from {results_root(args.scale)}/<paper>/claims.json)\n")
    print_summary(root, args.scale, papers)
    if args.no_stale:
        return 0
    stale = stale_jobs(root, args.scale, list(config["papers"]))
    print()
    if not stale:
        print("nothing is stale: snakemake -n has nothing to do.")
        return 0
    print("stale (snakemake -n would run):")
    for paper in sorted(stale, key=lambda p: (p == snake.CROSS_PAPER, p)):
        if paper != snake.CROSS_PAPER and paper not in papers:
            continue
        counts: dict[str, int] = defaultdict(int)
        for job in stale[paper]:
            for label in snake.reason_labels(job.reason):
                counts[label] += 1
        why = ", ".join(f"{label.lower()}: {n}" for label, n in sorted(counts.items()))
        print(f"  {paper}: {len(stale[paper])} job(s) ({why})")
    return 0


def cmd_verify(args: argparse.Namespace, root: Path) -> int:
    from paperdag.verify import verify_against, verify_files

    config = load(root, args.scale)
    papers = selected_papers(config, args.paper)
    files = [claims_path(root, args.scale, p) for p in papers]
    missing = [str(f.relative_to(root)) for f in files if not f.exists()]
    if missing:
        raise UsageError(f"no claims.json (not run at scale {args.scale}): {', '.join(missing)}")
    if args.against:
        try:
            return verify_against(args.against, [f.relative_to(root) for f in files], args.rel_tol, cwd=root)
        except ValueError as err:
            raise UsageError(str(err)) from None
    return verify_files(files)


# --- diff -------------------------------------------------------------------------------


def _claims_now(root: Path, rev: str | None, rel: Path) -> dict[str, Any] | None:
    from paperdag.verify import claims_at

    if rev is None:
        return read_json(root / rel) if (root / rel).exists() else None
    try:
        return claims_at(rev, rel, cwd=root)
    except ValueError as err:
        raise UsageError(str(err)) from None


def cmd_diff(args: argparse.Namespace, root: Path) -> int:
    config = load(root, args.scale)
    papers = selected_papers(config, args.paper)
    after = args.rev2 or "the working tree"
    changes = 0
    for paper in papers:
        rel = Path(results_root(args.scale)) / paper / "claims.json"
        old, new = _claims_now(root, args.rev, rel), _claims_now(root, args.rev2, rel)
        if old is None and new is None:
            continue
        if old is None or new is None:
            print(f"{paper}: claims.json {'added' if old is None else 'removed'} since {args.rev}")
            changes += 1
            continue
        before = {c["id"]: c for c in old.get("claims", [])}
        for row in compare_claims(old, new, args.rel_tol):
            claim = next(c for c in new["claims"] if c["id"] == row["id"])
            was = before.get(row["id"])
            if was is not None and was["status"] == claim["status"] and was.get("measured") == claim.get("measured"):
                continue
            changes += 1
            print(f"{paper}/{row['id']}: {row['verdict']}; {row['detail']}")
        for gone in sorted(set(before) - {c["id"] for c in new["claims"]}):
            changes += 1
            print(f"{paper}/{gone}: removed (was {before[gone]['status']}, measured {before[gone].get('measured')})")
    print(f"{changes} claim change(s) at scale {args.scale} from {args.rev} to {after}")
    return 1 if changes and args.exit_code else 0


# --- report, fetch -----------------------------------------------------------------------


def cmd_report(args: argparse.Namespace, root: Path) -> int:
    load(root, args.scale)
    results = results_root(args.scale)
    cores = str(args.cores or 2)
    calls = [
        ["--cores", cores, "all", f"{results}/README.md", "--config", f"scale={args.scale}"],
        ["--cores", "1", "--config", f"scale={args.scale}", "--report", f"{results}/report.html"],
    ]
    for call in calls:
        print("paperdag: snakemake " + " ".join(call), flush=True)
        if args.dry_run:
            continue
        code = snake.run_snakemake(root, call).returncode
        if code:
            return code
    if not args.dry_run:
        print(f"paperdag: wrote {results}/report.html")
    return 0


def cmd_fetch(args: argparse.Namespace, root: Path) -> int:
    tool = root / "tools" / "fetch-results"
    if not tool.is_file():
        raise UsageError(f"{tool} is missing in this checkout")
    cmd = [
        str(tool),
        *(["--remote", args.remote] if args.remote else []),
        *([f"scale={args.scale}"] if args.scale != "default" else []),
    ]
    return subprocess.run(cmd, cwd=root, env=snake.tool_env()).returncode


def cmd_data(args: argparse.Namespace, root: Path) -> int:
    """`paperdag data pin KEY`: download one entry whose sha256 is unknown and record the sum."""
    from paperdag.data import DownloadError, download_entry, pin, write_pin

    try:
        entry = download_entry(root / "config.yaml", args.key)
    except KeyError as err:
        raise UsageError(err.args[0]) from err
    dest = args.dir / entry.get("filename", Path(entry["url"]).name)
    try:
        sha256, size = pin(entry["url"], dest)
    except DownloadError as err:
        raise UsageError(str(err)) from err
    if entry["sha256"] and entry["sha256"] != sha256:
        raise UsageError(f"{args.key} is pinned to sha256 {entry['sha256']}, but {entry['url']} now gives {sha256} "
                         f"({size} bytes, kept at {dest}): check the file before replacing the sum by hand")
    try:
        write_pin(root / "config.yaml", args.key, sha256, size)
    except KeyError as err:
        raise UsageError(err.args[0]) from err
    print(f"{args.key}: sha256 {sha256}, {size} bytes ({dest}); recorded in config.yaml")
    return 0


def cmd_stage(argv: list[str], root: Path) -> int:
    from paperdag.stage import main as stage_main

    argv = list(argv)
    if "--config" not in argv and not any(a.startswith("--config=") for a in argv):
        argv += ["--config", str(root / "config.yaml")]
    try:
        return stage_main(argv, prog="paperdag stage")
    except ConfigError as err:
        print(f"paperdag stage: {err}", file=sys.stderr)
        return 2
