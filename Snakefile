# paperdag: regenerate the key results of seven ML papers and check their claims.
#   snakemake --cores 2                       # default scale (CPU laptop)
#   snakemake --cores 2 --config scale=smoke  # seconds, for tests
#   snakemake --workflow-profile profiles/slurm --config scale=paper
from snakemake.utils import min_version

min_version("9.27")  # a callable `priority:` (the generated rules' critical-path order)


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/paths.smk"
include: "workflow/rules/resources.smk"
include: "workflow/rules/papers.smk"
include: "workflow/rules/guards.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        scorecard=f"{RESULTS}/CLAIMS.md",
        rubric=f"{RESULTS}/rubric.json",
        readme=f"{RESULTS}/README.md",
        numbers=f"{RESULTS}/numbers.tex",
        benchmarks=f"{RESULTS}/benchmarks/summary.md",
