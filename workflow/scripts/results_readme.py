"""Write results/README.md and results/numbers.tex from every paper's claims, tables and figures.

Run by the `results_readme` rule; the paper list and paths come from the rule's params.
"""
from pathlib import Path

from paperdag.report import PaperProducts, write_results_front


def products(entry: dict) -> PaperProducts:
    return PaperProducts(paper=entry["paper"], claims=Path(entry["claims"]),
                         tables=[Path(t) for t in entry["tables"]], figures=[Path(f) for f in entry["figures"]])


if "snakemake" in globals():
    write_results_front(Path(snakemake.output.readme), Path(snakemake.output.numbers),  # noqa: F821
                        [products(p) for p in snakemake.params.papers])  # noqa: F821
