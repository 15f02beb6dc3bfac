"""`paperdag`: one command over the Snakemake DAG.

    paperdag plan   [--scale S] [--paper P ...] [--from-scratch]   what would run, why, how long
    paperdag run    [--scale S] [--paper P ...] [--profile slurm|slurm-gres] [--from-scratch]
    paperdag status [--scale S]                                     scorecard and what is stale
    paperdag verify [--scale S] [--against REV]                     exit 1 if an applicable claim failed
    paperdag diff REV [REV2] [--scale S]                            claims changed since a git revision
    paperdag stage PAPER STAGE key=value ... [--scale S] [--set K=V] one stage by hand
    paperdag report [--scale S]                                     results/report.html
    paperdag fetch  [--remote R]                                    restore results (tools/fetch-results)
    paperdag data pin KEY [--dir D]                                 download a file, record its sha256

It runs Snakemake in the project folder (the nearest folder above the working directory with
a Snakefile and config.yaml, or `-C DIR`). `run` reuses every result that is up to date,
committed or restored ones included; `run --from-scratch` reruns every job of the papers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from paperdag import SCALES

VERBS_DOC = {
    "plan": "what would run, per paper and rule, with Snakemake's reason and a time estimate",
    "run": "run the DAG, then print the scorecard summary and the failing claims",
    "status": "scorecard (replication score per paper) and what is stale",
    "verify": "exit 1 when a claim that applies at the scale failed, is inconclusive or defective",
    "diff": "claims whose status or value changed since a git revision",
    "stage": "run one stage of one paper by hand (workflow/scripts/stage.py)",
    "report": "build the self-contained HTML report (results/report.html)",
    "fetch": "restore a run's data, models and metrics from DVC (tools/fetch-results)",
    "data": "paper-scale downloads: `data pin KEY` fetches one file whose sha256 is empty and records it",
}


def _common(p: argparse.ArgumentParser, papers: bool = True) -> None:
    p.add_argument("--scale", choices=SCALES, default="default", help="smoke, default or paper (default: %(default)s)")
    if papers:
        p.add_argument(
            "--paper",
            nargs="+",
            action="extend",
            metavar="P",
            help="only these papers (ids as in config.yaml `papers`); default: every enabled paper",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperdag", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-C", "--directory", type=Path, metavar="DIR", help="the project folder (default: found from here)")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(name: str, epilog: str = "") -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=VERBS_DOC[name],
            description=VERBS_DOC[name] + ".",
            epilog=epilog or None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    scratch_help = (
        "rerun every job of the selected papers (Snakemake --forceall; --forcerun of their rules where "
        "they have sha256-checked downloads, which are not redone) and delete their training checkpoints first"
    )
    p = verb(
        "plan",
        "The estimate is each job's last recorded wall time in results[/<scale>]/benchmarks/;\n"
        "jobs never timed say 'no history', light jobs (reports, scorecard) say 'light'.",
    )
    _common(p)
    p.add_argument("--from-scratch", action="store_true", help="plan what `run --from-scratch` would run")
    p.add_argument("--cores", type=int, help="cores the estimate divides by (default 2)")
    p.add_argument("--full-reasons", action="store_true", help="print Snakemake's reasons with their file lists")

    p = verb(
        "run",
        "Without --from-scratch a job runs only if Snakemake finds it stale: results that are up\n"
        "to date (committed, DVC-restored or from an earlier run) are reused, and a missing\n"
        "intermediate file (runs/, models) does not trigger a rerun while the paper's final\n"
        "outputs exist. --from-scratch regenerates everything of the selected papers.",
    )
    _common(p)
    p.add_argument("--profile", choices=("slurm", "slurm-gres"), help="submit jobs to SLURM (profiles/<name>)")
    p.add_argument("--from-scratch", action="store_true", help=scratch_help)
    p.add_argument("--cores", type=int, help="local cores (default: profiles/default, 2)")

    p = verb("status")
    _common(p)
    p.add_argument("--no-stale", action="store_true", help="skip the dry run that finds stale jobs")

    p = verb(
        "verify",
        "Without --against: exit 1 if any claim failed, is inconclusive or defective.\n"
        "With --against REV: exit 1 if a claim's verdict differs from the claims.json committed at REV.",
    )
    _common(p)
    p.add_argument("--against", metavar="REV", help="compare with the claims committed at git revision REV")
    p.add_argument("--rel-tol", type=float, default=0.1, help="relative tolerance of a reproduced value (default 0.1)")

    p = verb(
        "diff",
        "Reads each paper's claims.json at REV with `git show`; each changed claim is labelled as\n"
        "`paperdag verify --against` would: reproduced (value within tolerance), drifted,\n"
        "verdict changed, or new; claims gone since REV are listed as removed.",
    )
    p.add_argument("rev", metavar="REV", help="git revision to compare from, e.g. HEAD~1")
    p.add_argument("rev2", metavar="REV2", nargs="?", help="compare to this revision instead of the working tree")
    _common(p)
    p.add_argument("--rel-tol", type=float, default=0.1, help="tolerance of the 'reproduced' label (default 0.1)")
    p.add_argument("--exit-code", action="store_true", help="exit 1 when a claim changed (like git diff --exit-code)")

    verb(
        "stage",
        "Arguments: PAPER STAGE key=value ... [--scale S] [--set KEY=VALUE] [--gpu N]\n"
        "[--allow-cpu] [--config FILE], options anywhere; see `paperdag stage --help`.",
    )

    p = verb("report")
    _common(p, papers=False)
    p.add_argument("--cores", type=int, help="cores for the runs the report needs first (default 2)")
    p.add_argument("-n", "--dry-run", action="store_true", help="print the two Snakemake calls, run nothing")

    p = verb(
        "fetch",
        "Needs dvc.lock and a DVC remote; checks every hash and leaves the workspace untouched on\n"
        "any error, then marks the restored files up to date (snakemake --touch).",
    )
    p.add_argument("--remote", metavar="NAME|PATH|URL", help="DVC remote (default: the configured default)")
    p.add_argument("--scale", choices=SCALES, default="default", help="scale whose results to restore")

    p = verb(
        "data",
        "KEY is the dotted config.yaml key of one download entry {url, filename, sha256}, e.g.\n"
        "scaling_wisdom.paper.downloads.t5_spm. The file is downloaded (retries, atomic write),\n"
        "its sha256 and size printed and the sum written into that entry's line of config.yaml;\n"
        "an entry already pinned to another sum is refused (the file changed upstream).",
    )
    data = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    pin = data.add_parser("pin", help="download one file and record its sha256 in config.yaml")
    pin.add_argument("key", metavar="KEY", help="dotted config.yaml key of the download entry")
    pin.add_argument("--dir", type=Path, default=Path("data/downloads"), help="where the file is kept (default: %(default)s)")
    return parser


def _split_stage(argv: list[str]) -> tuple[list[str], list[str]] | None:
    """(global options, stage arguments) when the verb is `stage`: its arguments go, untouched,
    to the by-hand runner's own parser."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in ("-C", "--directory") else 1
    if i < len(argv) and argv[i] == "stage":
        return argv[:i], argv[i + 1 :]
    return None


def main(argv: list[str] | None = None) -> int:
    from paperdag.cli import commands
    from paperdag.cli.snake import find_root

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    staged = _split_stage(argv)
    args = parser.parse_args(staged[0] + ["stage"] if staged else argv)
    root = find_root(args.directory)
    os.chdir(root)
    try:
        if staged:
            return commands.cmd_stage(staged[1], root)
        return getattr(commands, f"cmd_{args.verb}")(args, root)
    except commands.UsageError as err:
        print(f"paperdag {args.verb}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
