"""Library sources found statically, so imported-module edits rerun the right jobs."""
from paperdag.registry import library_sources


def test_library_sources_follow_imports():
    files = library_sources("paperdag.papers.monge_gap.stages")
    names = {f.split("src/paperdag/")[-1] for f in files}
    for expected in ("papers/monge_gap/ot.py", "papers/monge_gap/stages.py", "metrics.py", "training.py", "__init__.py"):
        assert expected in names, names
    assert not any("f_distill" in n for n in names)
