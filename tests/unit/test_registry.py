"""Library sources found statically, so imported-module edits rerun the right jobs."""
from paperdag.registry import library_sources, stage_sources


def test_library_sources_follow_imports():
    files = library_sources("paperdag.papers.monge_gap.stages")
    names = {f.split("src/paperdag/")[-1] for f in files}
    for expected in ("papers/monge_gap/ot.py", "papers/monge_gap/stages.py", "metrics.py", "training.py", "__init__.py"):
        assert expected in names, names
    assert not any("f_distill" in n for n in names)


def _names(files):
    return {f.split("src/paperdag/")[-1] for f in files}


def test_stage_sources_follow_lazy_imports_of_their_own_stage_only():
    """A stage depends on what its own function imports, even lazily, not on other stages' imports."""
    train = _names(stage_sources("scaling_wisdom", "train"))
    report = _names(stage_sources("scaling_wisdom", "report"))
    for lazy in ("papers/scaling_wisdom/experiment.py", "papers/scaling_wisdom/model.py", "papers/scaling_wisdom/sources.py"):
        assert lazy in train, train  # imported inside train()'s helpers, so a model edit reruns training
    assert "papers/scaling_wisdom/claims.py" not in train and "figures.py" not in train
    # scaling_wisdom's report reads its sweeps' extension files itself (paperdag.claims, not aggregate)
    assert {"papers/scaling_wisdom/claims.py", "claims.py", "figures.py"} <= report
    gauge = _names(stage_sources("gauge_freedom", "train"))
    assert "papers/gauge_freedom/model.py" in gauge and "training.py" in gauge
