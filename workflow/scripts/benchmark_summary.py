"""Write results[/<scale>]/benchmarks/summary.md from the benchmark files. By hand:

    python workflow/scripts/benchmark_summary.py results/benchmarks   # prints the table
"""
import sys

from paperdag.benchmarks import summary_markdown, write_summary

if "snakemake" in globals():
    write_summary(snakemake.output.summary, snakemake.params.bench_root, snakemake.params.budgets,  # noqa: F821
                  command="snakemake benchmark_summary")
elif __name__ == "__main__":
    import yaml

    budgets = yaml.safe_load(open("config.yaml")).get("benchmark_budgets", {})
    print(summary_markdown(sys.argv[1] if len(sys.argv) > 1 else "results/benchmarks", budgets), end="")
