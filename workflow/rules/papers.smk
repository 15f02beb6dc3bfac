# Every paper's rules, generated from the stages it declares once (`STAGES` in its spec.py,
# paperdag.contract). Rule `<paper>_<stage>` runs `paperdag.papers.<paper>.<module>.<stage>`.
from paperdag import schedule

# Longest expected chain of work after each rule, from the last run's benchmark files.
CHAINS = {
    p: schedule.paper_chains(p, paper_cfg(p), f"{RESULTS}/benchmarks") for p in PAPERS
}


def job_priority(paper, declared, value):
    """Critical-path priority (paperdag.schedule): the job's expected seconds plus the longest
    expected chain of jobs that need its outputs; long chains start first."""
    chain = CHAINS[paper][contract.rule_name(paper, declared, value)]
    tag = contract.job_tag(declared, value)

    def priority(wildcards):
        job_tag = tag.format(**dict(wildcards.items()))
        bench = job_file("benchmarks", paper, declared.name, job_tag, ".tsv")
        return round(schedule.expected_seconds(bench) + chain)

    return priority


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
                priority: job_priority(_paper, _stage, _value)
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
