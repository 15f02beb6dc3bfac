# CS-IB (Yu et al., ICLR 2024): Cauchy–Schwarz information bottleneck for regression vs deep-IB baselines.
# Library: src/paperdag/papers/cs_ib/ ; protocol: ../shared/papers/cs_ib.md


localrules:
    cs_ib_download,
    cs_ib_report,


rule cs_ib_download:
    input:
        unpack(stage_inputs("cs_ib", "download")),
    output:
        stage_outputs("cs_ib", "download"),
    params:
        paper="cs_ib",
        stage="download",
        cfg=stage_params("cs_ib", "download"),
    log:
        log_file("cs_ib", "download", "{dataset}"),
    retries: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"


rule cs_ib_train:
    input:
        unpack(stage_inputs("cs_ib", "train")),
    output:
        stage_outputs("cs_ib", "train"),
    params:
        paper="cs_ib",
        stage="train",
        cfg=stage_params("cs_ib", "train"),
    log:
        log_file("cs_ib", "train", "{dataset}"),
    benchmark:
        benchmark_file("cs_ib", "train", "{dataset}")
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


rule cs_ib_report:
    input:
        unpack(stage_inputs("cs_ib", "report")),
    output:
        stage_outputs("cs_ib", "report"),
    params:
        paper="cs_ib",
        stage="report",
        cfg=stage_params("cs_ib", "report"),
    log:
        log_file("cs_ib", "report"),
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"
