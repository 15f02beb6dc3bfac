"""Exit non-zero when a claim that applies at this scale failed (or is inconclusive or
defective). By hand (or `paperdag verify [--against REV]`):

    python workflow/scripts/verify.py results/*/claims.json
    python workflow/scripts/verify.py --against HEAD results/*/claims.json   # a fresh run vs git HEAD's

With `--against REV`, each claim is compared with the claims.json committed at REV:
reproduced within tolerance, verdict changed (exit 1), or drifted. The logic is
`paperdag.verify`.
"""

import argparse
import sys

from paperdag.verify import verify_against, verify_files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("claims", nargs="+", help="claims.json files")
    parser.add_argument("--against", metavar="REV", help="compare with the claims.json committed at git revision REV")
    parser.add_argument("--rel-tol", type=float, default=0.1, help="relative tolerance of a reproduced value")
    args = parser.parse_args(argv)
    if args.against:
        return verify_against(args.against, args.claims, args.rel_tol)
    return verify_files(args.claims)


if "snakemake" in globals():
    code = verify_files(list(snakemake.input.claims))  # noqa: F821
    if code:
        sys.exit(code)
elif __name__ == "__main__":
    sys.exit(main())
