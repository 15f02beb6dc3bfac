# The Monge gap (Uscidda & Cuturi 2023): neural OT maps with and without the Monge-gap regulariser.
# Library: src/paperdag/papers/monge_gap/ ; protocol: ../shared/papers/monge_gap.md


localrules:
    monge_gap_report,


rule monge_gap_train:
    input:
        unpack(stage_inputs("monge_gap", "train")),
    output:
        stage_outputs("monge_gap", "train"),
    params:
        paper="monge_gap",
        stage="train",
        cfg=stage_params("monge_gap", "train"),
    log:
        log_file("monge_gap", "train", "{benchmark}/{method}"),
    benchmark:
        benchmark_file("monge_gap", "train", "{benchmark}/{method}")
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


rule monge_gap_maps2d:
    input:
        unpack(stage_inputs("monge_gap", "maps2d")),
    output:
        stage_outputs("monge_gap", "maps2d"),
    params:
        paper="monge_gap",
        stage="maps2d",
        cfg=stage_params("monge_gap", "maps2d"),
    log:
        log_file("monge_gap", "maps2d"),
    benchmark:
        benchmark_file("monge_gap", "maps2d")
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


rule monge_gap_report:
    input:
        unpack(stage_inputs("monge_gap", "report")),
    output:
        stage_outputs("monge_gap", "report"),
    params:
        paper="monge_gap",
        stage="report",
        cfg=stage_params("monge_gap", "report"),
    log:
        log_file("monge_gap", "report"),
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"
