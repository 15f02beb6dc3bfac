# Gauge freedom and conservativity (Horvat & Pfister, ICLR 2024): exact sampling under gauge terms,
# intrinsic-dimension estimation with conservative vs unconstrained score models.
# Library: src/paperdag/papers/gauge_freedom/ ; protocol: ../shared/papers/gauge_freedom.md


localrules:
    gauge_freedom_report,


rule gauge_freedom_analytic:
    input:
        unpack(stage_inputs("gauge_freedom", "analytic")),
    output:
        stage_outputs("gauge_freedom", "analytic"),
    params:
        paper="gauge_freedom",
        stage="analytic",
        cfg=stage_params("gauge_freedom", "analytic"),
    log:
        log_file("gauge_freedom", "analytic"),
    benchmark:
        benchmark_file("gauge_freedom", "analytic")
    threads: heavy_threads
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
    retries: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"


rule gauge_freedom_train:
    input:
        unpack(stage_inputs("gauge_freedom", "train")),
    output:
        stage_outputs("gauge_freedom", "train"),
    params:
        paper="gauge_freedom",
        stage="train",
        cfg=stage_params("gauge_freedom", "train"),
    log:
        log_file("gauge_freedom", "train", "{manifold}/{kind}"),
    benchmark:
        benchmark_file("gauge_freedom", "train", "{manifold}/{kind}")
    wildcard_constraints:
        manifold=r"sphere\d*|torus|swiss_roll",
        kind=r"conservative|unconstrained",
    threads: heavy_threads
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
        gpu=heavy_gpus,
    retries: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"


rule gauge_freedom_report:
    input:
        unpack(stage_inputs("gauge_freedom", "report")),
    output:
        stage_outputs("gauge_freedom", "report"),
    params:
        paper="gauge_freedom",
        stage="report",
        cfg=stage_params("gauge_freedom", "report"),
    log:
        log_file("gauge_freedom", "report"),
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"
