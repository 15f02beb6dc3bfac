"""paperdag: regenerate the key results of seven ML papers and check their claims.

The package is a plain library: it never imports Snakemake. Importing it is cheap
(no torch), so the Snakefile can use the light modules (config, contract, registry)
at parse time.
"""

SCALES: tuple[str, ...] = ("smoke", "default", "paper")
