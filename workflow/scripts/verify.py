"""Exit non-zero when a claim that applies at this scale failed. By hand:

    python workflow/scripts/verify.py results/*/claims.json
"""
import sys

from paperdag.claims import failing_claims


def verify(paths):
    failed = failing_claims(paths)
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    print(f"{len(failed)} claim(s) failed across {len(paths)} paper(s)")
    return 1 if failed else 0


if "snakemake" in globals():
    code = verify(list(snakemake.input.claims))  # noqa: F821
    if code:
        sys.exit(code)
elif __name__ == "__main__":
    sys.exit(verify(sys.argv[1:]))
