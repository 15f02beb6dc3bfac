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


# Paper scale only (the `cifar` block exists in config at scale paper): CIFAR-10, cDCGAN, ResNet-18.
if paper_cfg("gda").get("cifar"):
    localrules:
        gda_download,

    rule gda_download:
        input:
            unpack(stage_inputs("gda", "download")),
        output:
            stage_outputs("gda", "download"),
        params:
            paper="gda",
            stage="download",
            cfg=stage_params("gda", "download"),
        log:
            log_file("gda", "download"),
        retries: 1
        conda:
            CONDA_ENV
        script:
            "../scripts/stage.py"

    rule gda_cdcgan:
        input:
            unpack(stage_inputs("gda", "cdcgan")),
        output:
            stage_outputs("gda", "cdcgan"),
        wildcard_constraints:
            generator="cdcgan",
            seed=r"\d+",
        params:
            paper="gda",
            stage="cdcgan",
            cfg=stage_params("gda", "cdcgan"),
        log:
            log_file("gda", "cdcgan", "{generator}/seed{seed}"),
        benchmark:
            benchmark_file("gda", "cdcgan", "{generator}/seed{seed}")
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

    rule gda_augment_cifar:
        input:
            unpack(stage_inputs("gda", "augment_cifar")),
        output:
            stage_outputs("gda", "augment_cifar"),
        wildcard_constraints:
            aug="none|base",
            ngen=r"\d+",
            seed=r"\d+",
        params:
            paper="gda",
            stage="augment_cifar",
            cfg=stage_params("gda", "augment_cifar"),
        log:
            log_file("gda", "augment_cifar", "{aug}/{generator}/n{ngen}/seed{seed}"),
        benchmark:
            benchmark_file("gda", "augment_cifar", "{aug}/{generator}/n{ngen}/seed{seed}")
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
