"""paperdag: regenerate the key results of seven ML papers and check their claims.

The package is a plain library: it never imports Snakemake. Importing it is cheap
(no torch), so the Snakefile can use the light modules (config, registry, paths)
at parse time.
"""

PAPERS: tuple[str, ...] = (
    "monge_gap", "f_distill", "cs_ib", "it_bounds", "scaling_wisdom", "gauge_freedom", "gda",
)
SCALES: tuple[str, ...] = ("smoke", "default", "paper")
