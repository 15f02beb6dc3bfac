"""Exit non-zero when a claim that applies at this scale failed (or is inconclusive or
defective). By hand:

    python workflow/scripts/verify.py results/*/claims.json
    python workflow/scripts/verify.py --against HEAD results/*/claims.json   # a fresh run vs git HEAD's

With `--against REV`, each claim is compared with the claims.json committed at REV:
reproduced within tolerance, verdict changed (exit 1), or drifted.
"""
import argparse
import json
import subprocess
import sys

from paperdag.claims import VERDICT_CHANGED, compare_claims, failing_claims
from paperdag.io import read_json


def verify(paths):
    failed = failing_claims(paths)
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    print(f"{len(failed)} claim(s) failed across {len(paths)} paper(s)")
    return 1 if failed else 0


def against(rev, paths, rel_tol):
    changed = 0
    for path in paths:
        shown = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
        committed = json.loads(shown.stdout) if shown.returncode == 0 else {"claims": []}
        fresh = read_json(path)
        for row in compare_claims(committed, fresh, rel_tol):
            changed += row["verdict"] == VERDICT_CHANGED
            print(f"{fresh['paper']}/{row['id']}: {row['verdict']} ({row['detail']})")
    print(f"{changed} verdict(s) changed against {rev}")
    return 1 if changed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("claims", nargs="+", help="claims.json files")
    parser.add_argument("--against", metavar="REV", help="compare with the claims.json committed at git revision REV")
    parser.add_argument("--rel-tol", type=float, default=0.1, help="relative tolerance of a reproduced value")
    args = parser.parse_args(argv)
    return against(args.against, args.claims, args.rel_tol) if args.against else verify(args.claims)


if "snakemake" in globals():
    code = verify(list(snakemake.input.claims))  # noqa: F821
    if code:
        sys.exit(code)
elif __name__ == "__main__":
    sys.exit(main())
