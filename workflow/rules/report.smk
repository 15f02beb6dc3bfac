# Cross-paper products: the scorecard, the results front page (README.md, numbers.tex) and verify.


localrules:
    scorecard,
    results_readme,
    benchmark_summary,
    verify,


rule scorecard:
    input:
        claims=all_claims(),
    output:
        scorecard=report(
            f"{RESULTS}/CLAIMS.md",
            caption="../report/scorecard.rst",
            category="Scorecard",
        ),
        rubric=f"{RESULTS}/rubric.json",
        rst=f"{RESULTS}/CLAIMS.rst",
    log:
        job_file("logs", "all", "scorecard", "", ".log"),
    conda:
        CONDA_ENV
    script:
        "../scripts/scorecard.py"


rule results_readme:
    input:
        published_files,
    output:
        readme=f"{RESULTS}/README.md",
        numbers=f"{RESULTS}/numbers.tex",
    log:
        job_file("logs", "all", "results_readme", "", ".log"),
    conda:
        CONDA_ENV
    params:
        papers=[published(p) for p in PAPERS],
    script:
        "../scripts/results_readme.py"


rule benchmark_summary:
    input:
        claims=all_claims(),
    output:
        summary=f"{RESULTS}/benchmarks/summary.md",
    log:
        job_file("logs", "all", "benchmark_summary", "", ".log"),
    conda:
        CONDA_ENV
    params:
        bench_root=lambda w, output: os.path.dirname(output.summary),
        budgets=config.get("benchmark_budgets", {}),
    script:
        "../scripts/benchmark_summary.py"


rule verify:
    input:
        claims=all_claims(),
    log:
        job_file("logs", "all", "verify", "", ".log"),
    conda:
        CONDA_ENV
    script:
        "../scripts/verify.py"
