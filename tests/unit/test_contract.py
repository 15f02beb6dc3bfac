"""The paper contract: stages declared once, one name for rule, stage, function and checkpoints."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import yaml

from paperdag import contract
from paperdag.config import resolve_paper
from paperdag.registry import PACKAGE_ROOT, _import_targets, _module_file
from paperdag.stage import PROJECT_ROOT, job_from_spec

CONFIG = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text())
PAPERS = CONFIG["papers"]


@pytest.mark.parametrize("paper", PAPERS)
def test_every_declared_stage_is_a_function_of_the_same_name(paper: str) -> None:
    names = [s.name for s in contract.stages(paper)]
    assert len(names) == len(set(names)) and contract.REPORT_STAGE in names
    for declared in contract.stages(paper):
        fn = contract.stage_function(paper, declared.name)
        assert fn.__name__ == declared.name and fn.__module__ == contract.module_name(paper, declared)
        assert list(inspect.signature(fn).parameters) == ["job"]


def test_unknown_stage_is_one_clear_error() -> None:
    with pytest.raises(KeyError, match="has no stage 'trian'.*train"):
        contract.stage("monge_gap", "trian")


def test_a_split_stage_keeps_its_name_and_checkpoint_folder_by_hand() -> None:
    declared = contract.stage("scaling_wisdom", "train")
    job = job_from_spec("scaling_wisdom", "train", "smoke", {"job": "all"}, PROJECT_ROOT / "config.yaml")
    assert declared.split == "jobs" and job.stage == "train"
    assert job.checkpoint_dir().parts[-3:] == ("scaling_wisdom", "train", "job=all")
    assert contract.rule_name("scaling_wisdom", declared, "all") == "scaling_wisdom_train_all"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def test_the_library_has_no_import_cycle() -> None:
    """Every import counts, also inside functions (a lazy import still closes a cycle)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE_ROOT.rglob("*.py"):
        name = _module_name(path)
        tree = ast.parse(path.read_text())
        nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        targets = _import_targets(nodes, name, path.name == "__init__.py")
        graph[name] = {t for t in targets if t != name and _module_file(t) is not None
                       and not name.startswith(t + ".")}  # a module importing its own package is not a cycle
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " → ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_monge_gap_statement_follows_lambda_and_runs_are_selected_by_it() -> None:
    import pandas as pd

    cfg = resolve_paper(CONFIG, "monge_gap", "default")
    cfg["methods"]["mlp_mg"]["monge_gap"] = 0.5
    claims = {c.id: c for c in contract.paper_claims("monge_gap", cfg)}
    assert "(λ = 0.5)" in claims["mg_beats_mlp"].statement and "(λ = 0)" in claims["mg_beats_mlp"].statement
    runs = pd.DataFrame([
        {"method": m, "benchmark": "gaussian", "dim": 2, "seed": 0, "l2_uvp": uvp, "settings.method.monge_gap": lam}
        for m, uvp, lam in [("mlp_mg", 1.0, 1.0), ("mlp", 10.0, 0.0)]])
    from paperdag.claims import MissingRuns

    with pytest.raises(MissingRuns, match="mlp_mg"):  # the run recorded λ = 1, config says 0.5
        claims["mg_beats_mlp"].evaluate(runs)
    runs.loc[0, "settings.method.monge_gap"] = 0.5
    assert claims["mg_beats_mlp"].evaluate(runs).passed


def test_report_outputs_name_what_the_writers_write(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt
    import pandas as pd

    from paperdag.figures import save_figure
    from paperdag.tables import write_table

    written = write_table(pd.DataFrame({"a": [1.0]}), tmp_path / "tables" / "t")
    written += save_figure(plt.figure(), tmp_path / "figures" / "f")
    declared = contract.report_outputs(["t"], ["f"])
    assert declared[0] == "claims.json"
    assert sorted(declared[1:]) == sorted(str(p.relative_to(tmp_path)) for p in written)
