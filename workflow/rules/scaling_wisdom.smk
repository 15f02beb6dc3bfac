# Rethinking conventional wisdom (Xiao 2024): L2, batch size, learning rate and the scaling-law
# crossover on small transformer LMs. Library: src/paperdag/papers/scaling_wisdom/ ;
# protocol: ../shared/papers/scaling_wisdom.md
# One rule per training job of the config's `jobs:` (each job packs several batched units).
# Paper scale: C4 shards and the SentencePiece model are downloaded (checked), then tokenised;
# only jobs that read a `c4` source (paper scale) depend on the token files.


localrules:
    scaling_wisdom_download,
    scaling_wisdom_report,


rule scaling_wisdom_download:
    output:
        stage_outputs("scaling_wisdom", "download"),
    params:
        paper="scaling_wisdom",
        stage="download",
        cfg=stage_params("scaling_wisdom", "download"),
    log:
        log_file("scaling_wisdom", "download", "{file}"),
    wildcard_constraints:
        file=r"[A-Za-z0-9_.-]+",
    retries: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"


# Inputs: the shards and the model, and only the code that encodes (c4.py and what it
# imports), so editing stages.py or the training code does not re-tokenise C4.
rule scaling_wisdom_tokenize:
    input:
        data=lambda wc: stage_inputs("scaling_wisdom", "tokenize")(wc)["data"],
        code=[
            os.path.relpath(p, workflow.basedir)
            for p in library_sources("paperdag.papers.scaling_wisdom.c4", "paperdag.stage")
        ],
    output:
        stage_outputs("scaling_wisdom", "tokenize"),
    params:
        paper="scaling_wisdom",
        stage="tokenize",
        cfg=stage_params("scaling_wisdom", "tokenize"),
    log:
        log_file("scaling_wisdom", "tokenize", "{source}"),
    benchmark:
        benchmark_file("scaling_wisdom", "tokenize", "{source}")
    wildcard_constraints:
        source=r"[a-z0-9_]+",
    threads: heavy_threads
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
    retries: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/stage.py"


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
