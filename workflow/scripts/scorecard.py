"""Write results/CLAIMS.md and results/rubric.json from every paper's claims.json. By hand:

    python workflow/scripts/scorecard.py results/CLAIMS.md results/*/claims.json
"""
import sys
from pathlib import Path

from paperdag.scorecard import write_scorecard

if "snakemake" in globals():
    write_scorecard(Path(snakemake.output.scorecard), [Path(p) for p in snakemake.input.claims])  # noqa: F821
elif __name__ == "__main__":
    write_scorecard(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
