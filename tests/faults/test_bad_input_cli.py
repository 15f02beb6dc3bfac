"""Bad input at the command line: each bad config (and a paper-scale config on a small
machine) is refused by `snakemake` before any job runs, naming the key, with `results/`
byte-for-byte unchanged. Plus static checks that no unsafe loader or unquoted shell use exists."""
from __future__ import annotations

import ast
import copy
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, tree_hash

_DELETE = object()
ARCHIVE = "cs_ib.paper.data_sources.california.files.archive"

# (dotted key to change, bad value, text the error must contain). Runs at the config's scale: smoke.
BAD = [
    ("scale", "huge", "scale"),                                                # impossible scale
    ("scael", "smoke", "scael"),                                               # unknown name
    ("papers", [], "papers"),                                                  # empty grid
    ("papers", ["monge_gap", "no_such_paper"], "no_such_paper"),               # unknown paper
    ("allow_cpu", "yes", "allow_cpu"),                                         # wrong type
    ("monge_gap.base.seeds", [-1], "seeds[0]"),                                # negative
    ("monge_gap.smoke.dims", [], "monge_gap.smoke.dims"),                      # empty grid
    ("monge_gap.base.dims", [2, "eight"], "dims[1]"),                          # wrong type in a list
    ("monge_gap.smoke.benchmarks", ["mnist"], "benchmarks[0]"),                # unknown name
    ("monge_gap.smoke.training.steps", -5, "training.steps"),                  # negative
    ("monge_gap.smoke.training.batch", "128", "training.batch"),               # wrong type
    ("monge_gap.base.training.lr", 1e9, "training.lr"),                        # huge
    ("monge_gap.smoke.n_eval", 10**9, "n_eval"),                               # huge
    ("monge_gap.smoke.training.stpes", 10, "stpes"),                           # misspelt key
    ("monge_gap.smoke.methods.mlp.kind", "transformer", "methods.mlp.kind"),   # unknown name
    ("monge_gap.smoke.methods.x;rm -rf ~", {"kind": "mlp"}, "x;rm -rf ~"),     # a name made for a shell
    (f"{ARCHIVE}.filename", "../../../../etc/passwd", "filename"),             # a path outside the project
    (f"{ARCHIVE}.sha256", "not-a-checksum", "sha256"),                         # malformed checksum
    ("monge_gap.base", _DELETE, "base"),                                       # missing section
]


def _set(cfg: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    cfg = copy.deepcopy(cfg)
    parts = dotted.split(".")
    if dotted.startswith("monge_gap.smoke.methods."):  # method names may contain anything
        parts = ["monge_gap", "smoke", "methods", dotted[len("monge_gap.smoke.methods."):]]
        if value is not _DELETE and isinstance(value, str):  # a key below a method
            parts = ["monge_gap", "smoke", "methods", *parts[3].split(".")]
    node = cfg
    for key in parts[:-1]:
        node = node.setdefault(key, {})
    node.pop(parts[-1]) if value is _DELETE else node.__setitem__(parts[-1], value)
    return cfg


def _snakemake_in(workdir: Path, snakefile: Path, env: dict[str, str], args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "-s", str(snakefile), "-d", str(workdir),
                           *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.workflow
def test_bad_configs_and_oversized_runs_are_refused_before_any_job(smoke_copy, tmp_path):
    good = yaml.safe_load((smoke_copy / "config.yaml").read_text())
    good["scale"] = "smoke"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    # (name, working directory, environment, arguments, texts the refusal must contain)
    cases: list[tuple[str, Path, dict[str, str], list[str], list[str]]] = []
    for i, (key, value, names) in enumerate(BAD):  # one working directory per config, sharing the results
        wd = tmp_path / f"case{i}"
        wd.mkdir()
        (wd / "config.yaml").write_text(yaml.safe_dump(_set(good, key, value), sort_keys=False))
        (wd / "results").symlink_to(smoke_copy / "results")
        cases.append((f"{key}={str(value)[:20]}", wd, env, [], [names]))
    # The good config at paper scale on a machine with 1 GB: refused up front, with its estimate.
    cases.append(("paper scale on 1 GB", smoke_copy, {**env, "PAPERDAG_MEMORY_MB": "1000"},
                  ["--config", "scale=paper", "allow_cpu=True"], ["refusing to start", "monge_gap", "32,000 MB", "1,000 MB"]))
    assert len(cases) >= 16

    before = tree_hash(smoke_copy / "results")
    with ThreadPoolExecutor(max_workers=4) as pool:
        procs = list(pool.map(lambda c: _snakemake_in(c[1], smoke_copy / "Snakefile", c[2], c[3]), cases))

    problems = []
    for (name, _, _, _, needles), proc in zip(cases, procs):
        out = proc.stdout + proc.stderr
        if proc.returncode == 0 or not all(n in out for n in needles) or "Select jobs to execute" in out:
            problems.append(f"{name}: rc={proc.returncode}, wanted {needles}:\n{out[-1500:]}")
    assert not problems, "\n\n".join(problems)
    assert tree_hash(smoke_copy / "results") == before


def _calls(tree: ast.AST, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == name:
            yield node


def test_checkpoints_and_arrays_are_loaded_without_pickle():
    """torch.load only with weights_only=True; np.load never with allow_pickle; no pickle at all."""
    bad = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        tree = ast.parse(path.read_text())
        where = path.relative_to(ROOT)
        for call in _calls(tree, "torch.load"):
            kw = {k.arg: ast.unparse(k.value) for k in call.keywords}
            if kw.get("weights_only") != "True":
                bad.append(f"{where}:{call.lineno} torch.load without weights_only=True")
        for call in _calls(tree, "np.load"):
            if any(k.arg == "allow_pickle" and ast.unparse(k.value) != "False" for k in call.keywords):
                bad.append(f"{where}:{call.lineno} np.load with allow_pickle")
        for call in [*_calls(tree, "pickle.load"), *_calls(tree, "pickle.loads")]:
            bad.append(f"{where}:{call.lineno} pickle")
    assert not bad, "\n".join(bad)


def test_no_config_value_reaches_a_shell_unquoted():
    """Rules run `script:`; any `shell:` must quote every placeholder ({x:q}); wildcards are constrained."""
    rules = sorted((ROOT / "workflow" / "rules").glob("*.smk")) + [ROOT / "Snakefile"]
    unquoted = []
    for path in rules:
        text = path.read_text()
        for block in re.findall(r"^\s+shell:\s*\n?((?:\s+.*\n)+?)(?=^\s*\w+:|\Z)", text, re.M):
            unquoted += [f"{path.name}: {{{p}}}" for p in re.findall(r"(?<!\{)\{([^{}]+)\}(?!\})", block)
                         if not p.endswith(":q")]
    assert not unquoted, unquoted
    common = (ROOT / "workflow" / "rules" / "paths.smk").read_text()
    for wildcard in ("seed", "method"):
        found = re.search(rf'^\s+{wildcard}=r"([^"]+)"', common, re.M)
        assert found, f"no wildcard constraint for {wildcard}"
        for nasty in ("x;rm -rf ~", "$(id)", "a b", "../x", "`id`", "x'y"):
            assert not re.fullmatch(found.group(1), nasty), (wildcard, nasty)
