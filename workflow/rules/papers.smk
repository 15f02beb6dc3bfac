# Every paper's rules, generated from the stages it declares once (`STAGES` in its spec.py,
# paperdag.contract). Rule `<paper>_<stage>` runs `paperdag.papers.<paper>.<module>.<stage>`.


for _paper in PAPERS:
    for _stage in contract.stages(_paper, paper_cfg(_paper)):
        for _value in _stage.split_values(paper_cfg(_paper)):
            _fixed = contract.split_wildcards(_stage, _value)
            _name = contract.rule_name(_paper, _stage, _value)
            _log = job_file(
                "logs", _paper, _stage.name, contract.job_tag(_stage, _value), ".log"
            )

            rule:
                name:
                    _name
                input:
                    unpack(stage_inputs(_paper, _stage.name, _fixed)),
                output:
                    stage_outputs(_paper, _stage.name, _fixed),
                log:
                    _log,
                benchmark:
                    job_file(
                        "benchmarks",
                        _paper,
                        _stage.name,
                        contract.job_tag(_stage, _value),
                        ".tsv",
                    )
                wildcard_constraints:
                    **_stage.constraints,
                retries: _stage.retries
                localrule: _stage.local
                conda:
                    CONDA_ENV
                threads: (_stage.threads or heavy_threads) if _stage.heavy else 1
                resources:
                    **(heavy_resources(_stage) if _stage.heavy else {}),
                params:
                    paper=_paper,
                    stage=_stage.name,
                    fixed=_fixed,
                    cfg=stage_params(_paper, _stage.name, _fixed),
                script:
                    "../scripts/stage.py"
