"""Run one stage of one paper (Snakemake `script:`), or by hand:

    python workflow/scripts/stage.py monge_gap train benchmark=gaussian job=maps --scale smoke
    paperdag stage monge_gap train --scale smoke benchmark=gaussian job=maps   # the same; options anywhere
"""
import sys

from paperdag.stage import job_from_snakemake, main, run_job

if "snakemake" in globals():
    run_job(job_from_snakemake(snakemake))  # noqa: F821
elif __name__ == "__main__":
    sys.exit(main())
