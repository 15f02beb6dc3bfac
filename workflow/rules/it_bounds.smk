# Information-theoretic generalisation bounds for DNNs (He & Goldfeld 2024/2025): analytic testbed.
# Library: src/paperdag/papers/it_bounds/ ; protocol: ../shared/papers/it_bounds.md
# CPU-only at every scale (vectorised numpy, no GPU): gpu=0 is declared here, not by heavy_gpus.


localrules:
    it_bounds_report,


rule it_bounds_bounds:
    input:
        unpack(stage_inputs("it_bounds", "bounds")),
    output:
        stage_outputs("it_bounds", "bounds"),
    params:
        paper="it_bounds",
        stage="bounds",
        cfg=stage_params("it_bounds", "bounds"),
    log:
        log_file("it_bounds", "bounds", "{arch}/d{d}"),
    benchmark:
        benchmark_file("it_bounds", "bounds", "{arch}/d{d}")
    threads: heavy_threads
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
        gpu=0,
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"


rule it_bounds_sdpi:
    input:
        unpack(stage_inputs("it_bounds", "sdpi")),
    output:
        stage_outputs("it_bounds", "sdpi"),
    params:
        paper="it_bounds",
        stage="sdpi",
        cfg=stage_params("it_bounds", "sdpi"),
    log:
        log_file("it_bounds", "sdpi"),
    benchmark:
        benchmark_file("it_bounds", "sdpi")
    threads: 1
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
        gpu=0,
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"


rule it_bounds_crosscheck:
    input:
        unpack(stage_inputs("it_bounds", "crosscheck")),
    output:
        stage_outputs("it_bounds", "crosscheck"),
    params:
        paper="it_bounds",
        stage="crosscheck",
        cfg=stage_params("it_bounds", "crosscheck"),
    log:
        log_file("it_bounds", "crosscheck"),
    benchmark:
        benchmark_file("it_bounds", "crosscheck")
    threads: 1
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
        gpu=0,
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"


rule it_bounds_report:
    input:
        unpack(stage_inputs("it_bounds", "report")),
    output:
        stage_outputs("it_bounds", "report"),
    params:
        paper="it_bounds",
        stage="report",
        cfg=stage_params("it_bounds", "report"),
    log:
        log_file("it_bounds", "report"),
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"
