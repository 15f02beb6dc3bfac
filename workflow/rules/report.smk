# Cross-paper products: the scorecard and the verify target.


localrules:
    scorecard,
    verify,


rule scorecard:
    input:
        claims=all_claims(),
    output:
        report(f"{RESULTS}/CLAIMS.md", caption="../report/scorecard.rst", category="Scorecard"),
    log:
        log_file("all", "scorecard"),
    conda:
        CONDA_ENV
    script:
        "../scripts/scorecard.py"


rule verify:
    input:
        claims=all_claims(),
    log:
        log_file("all", "verify"),
    conda:
        CONDA_ENV
    script:
        "../scripts/verify.py"
