# f-distill (Xu, Nie & Vahdat 2025): one-step diffusion distillation under six f-divergences.
# Library: src/paperdag/papers/f_distill/ ; protocol: ../shared/papers/f_distill.md


localrules:
    f_distill_report,
    f_distill_download,


rule f_distill_toy:
    input:
        unpack(stage_inputs("f_distill", "toy")),
    output:
        stage_outputs("f_distill", "toy"),
    wildcard_constraints:
        init=r"[a-z]+",
    params:
        paper="f_distill",
        stage="toy",
        cfg=stage_params("f_distill", "toy"),
    log:
        log_file("f_distill", "toy", "{init}"),
    benchmark:
        benchmark_file("f_distill", "toy", "{init}")
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


rule f_distill_digits_prep:
    input:
        unpack(stage_inputs("f_distill", "digits_prep")),
    output:
        stage_outputs("f_distill", "digits_prep"),
    params:
        paper="f_distill",
        stage="digits_prep",
        cfg=stage_params("f_distill", "digits_prep"),
    log:
        log_file("f_distill", "digits_prep"),
    benchmark:
        benchmark_file("f_distill", "digits_prep")
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


rule f_distill_digits:
    input:
        unpack(stage_inputs("f_distill", "digits")),
    output:
        stage_outputs("f_distill", "digits"),
    params:
        paper="f_distill",
        stage="digits",
        cfg=stage_params("f_distill", "digits"),
    log:
        log_file("f_distill", "digits"),
    benchmark:
        benchmark_file("f_distill", "digits")
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


rule f_distill_download:
    output:
        stage_outputs("f_distill", "download"),
    params:
        paper="f_distill",
        stage="download",
        cfg=stage_params("f_distill", "download"),
    log:
        log_file("f_distill", "download", "{name}"),
    retries: 2
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"


rule f_distill_report:
    input:
        unpack(stage_inputs("f_distill", "report")),
    output:
        stage_outputs("f_distill", "report"),
    params:
        paper="f_distill",
        stage="report",
        cfg=stage_params("f_distill", "report"),
    log:
        log_file("f_distill", "report"),
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"
