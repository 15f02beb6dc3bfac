# Toward Understanding Generative Data Augmentation (Zheng et al. 2023): the bGMM simulation
# and a digits stand-in for its augmentation experiment.
# Library: src/paperdag/papers/gda/ ; protocol: ../shared/papers/gda.md


localrules:
    gda_report,


rule gda_simulate:
    input:
        unpack(stage_inputs("gda", "simulate")),
    output:
        stage_outputs("gda", "simulate"),
    params:
        paper="gda",
        stage="simulate",
        cfg=stage_params("gda", "simulate"),
    log:
        log_file("gda", "simulate"),
    benchmark:
        benchmark_file("gda", "simulate")
    threads: 1
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
        gpu=0,  # numpy only, at every scale
    retries: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"


rule gda_augment:
    input:
        unpack(stage_inputs("gda", "augment")),
    output:
        stage_outputs("gda", "augment"),
    params:
        paper="gda",
        stage="augment",
        cfg=stage_params("gda", "augment"),
    log:
        log_file("gda", "augment", "{dataset}"),
    benchmark:
        benchmark_file("gda", "augment", "{dataset}")
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


rule gda_report:
    input:
        unpack(stage_inputs("gda", "report")),
    output:
        stage_outputs("gda", "report"),
    params:
        paper="gda",
        stage="report",
        cfg=stage_params("gda", "report"),
    log:
        log_file("gda", "report"),
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"
