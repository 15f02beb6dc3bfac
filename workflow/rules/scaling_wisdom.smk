# Rethinking conventional wisdom (Xiao 2024): L2, batch size, learning rate and the scaling-law
# crossover on small transformer LMs. Library: src/paperdag/papers/scaling_wisdom/ ;
# protocol: ../shared/papers/scaling_wisdom.md
# One rule per training job of the config's `jobs:` (each job packs several batched units).


localrules:
    scaling_wisdom_report,


for _sw_job in paper_spec("scaling_wisdom").train_jobs(paper_cfg("scaling_wisdom")):

    rule:
        name:
            f"scaling_wisdom_train_{_sw_job}"
        input:
            unpack(stage_inputs("scaling_wisdom", f"train/{_sw_job}")),
        output:
            stage_outputs("scaling_wisdom", f"train/{_sw_job}"),
        params:
            paper="scaling_wisdom",
            stage="train",
            cfg=stage_params("scaling_wisdom", f"train/{_sw_job}"),
        log:
            log_file("scaling_wisdom", "train", f"{_sw_job}"),
        benchmark:
            benchmark_file("scaling_wisdom", "train", f"{_sw_job}")
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


rule scaling_wisdom_report:
    input:
        unpack(stage_inputs("scaling_wisdom", "report")),
    output:
        stage_outputs("scaling_wisdom", "report"),
    params:
        paper="scaling_wisdom",
        stage="report",
        cfg=stage_params("scaling_wisdom", "report"),
    log:
        log_file("scaling_wisdom", "report"),
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"
