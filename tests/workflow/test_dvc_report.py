"""DVC store and restore, and the report products, on copies of one smoke run.

Round trip: the smoke run is committed to DVC (`dvc repro` of the generated stage), pushed
to a temporary remote, cloned fresh, restored by tools/fetch-results (fetch, checkout,
`snakemake --touch`), after which Snakemake has nothing to do. A corrupt or missing remote
is refused with the workspace unchanged; a corrupt local cache shows up in `dvc status`.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import snakemake, tree_hash

pytestmark = pytest.mark.workflow

BIN = str(Path(sys.executable).parent)
ENV = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"], "DVC_NO_ANALYTICS": "1", "PYTHONHASHSEED": "0",
       "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
SMOKE = "results/smoke"


def sh(cwd: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc




def git_kept(root: Path) -> list[str]:
    """Smoke products that git would keep at the default layout (what a clone of a default run carries)."""
    files = sorted(str(p.relative_to(root)) for p in (root / SMOKE).rglob("*") if p.is_file())
    as_default = {f: "results/" + f[len(SMOKE) + 1:] for f in files}
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=root, env=ENV,
                          input="\n".join(as_default.values()), capture_output=True, text=True)
    ignored = set(proc.stdout.splitlines())
    return [f for f, d in as_default.items() if d not in ignored]


def fresh_clone(origin: Path, dest: Path) -> Path:
    """`git clone`, plus the smoke products git keeps (git ignores results/smoke/ as a whole)."""
    sh(origin.parent, "git", "clone", "-q", str(origin), str(dest))
    for rel in git_kept(origin):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin / rel, dest / rel)
    return dest


@pytest.fixture(scope="module")
def pushed(smoke_project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A git repo of the smoke run, its products committed to DVC and pushed to a temporary remote."""
    base = tmp_path_factory.mktemp("dvc")
    origin, remote = base / "origin", base / "remote"
    shutil.copytree(smoke_project, origin, symlinks=True)
    sh(origin, "git", "init", "-q")
    sh(origin, sys.executable, "tools/dvc-stage", "--scale", "smoke")
    sh(origin, "dvc", "remote", "add", "-d", "tmp", str(remote))
    sh(origin, "dvc", "repro")  # runs the stage: Snakemake finds nothing to do, DVC stores the outputs
    sh(origin, "git", "add", "-A")
    sh(origin, "git", "commit", "-q", "-m", "smoke run")
    sh(origin, "dvc", "push")
    return origin, remote


def test_round_trip_restores_without_rerunning(pushed, tmp_path):
    origin, remote = pushed
    assert sh(origin, "dvc", "status").stdout.strip() == "Data and pipelines are up to date."
    clone = fresh_clone(origin, tmp_path / "clone")
    assert not (clone / SMOKE / "monge_gap" / "runs").exists()
    before = snakemake(clone, "-n", "--config", "scale=smoke")
    assert "Nothing to be done" not in before.stdout + before.stderr  # without the data everything would rerun
    proc = sh(clone, "tools/fetch-results", "--remote", "tmp", "scale=smoke")
    assert "Snakemake has nothing to do" in proc.stdout
    run = f"{SMOKE}/monge_gap/runs/gaussian/d2/mlp_mg/seed0/metrics.json"
    assert (clone / run).read_bytes() == (origin / run).read_bytes()
    after = snakemake(clone, "-n", "--config", "scale=smoke")
    assert "Nothing to be done" in after.stdout + after.stderr
    assert not (clone / "results" / "smoke" / ".ckpt").exists()  # checkpoints are not stored

    # a corrupt object in the local cache is not used silently: `dvc status` reports it after a
    # plain checkout, and fetch-results (whose verified fetch replaces it) restores the true bytes
    original = (clone / run).read_bytes()
    md5 = hashlib.md5(original).hexdigest()
    obj = clone / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"corrupt")
    shutil.rmtree(clone / SMOKE / "monge_gap" / "runs")
    sh(clone, "dvc", "checkout")
    assert "not in cache" in sh(clone, "dvc", "status").stdout
    shutil.rmtree(clone / SMOKE / "monge_gap" / "runs")
    sh(clone, "tools/fetch-results", "--remote", "tmp", "scale=smoke")
    assert (clone / run).read_bytes() == original
    assert sh(clone, "dvc", "status").stdout.strip() == "Data and pipelines are up to date."


def test_corrupt_or_missing_remote_is_refused_and_workspace_kept(pushed, tmp_path):
    origin, remote = pushed
    clone = fresh_clone(origin, tmp_path / "clone")
    before = tree_hash(clone / "results")

    missing = sh(clone, "tools/fetch-results", "--remote", str(tmp_path / "nowhere"), "scale=smoke", check=False)
    assert missing.returncode != 0
    assert f"DVC remote 'fetch' ({tmp_path / 'nowhere'}) does not exist" in missing.stderr
    unknown = sh(clone, "tools/fetch-results", "--remote", "nosuch", "scale=smoke", check=False)
    assert unknown.returncode != 0 and "no DVC remote named 'nosuch'" in unknown.stderr

    corrupt_copy = tmp_path / "corrupt-remote"
    shutil.copytree(remote, corrupt_copy)
    obj = next(p for p in corrupt_copy.rglob("*") if p.is_file() and p.suffix != ".dir")
    obj.chmod(0o644)
    obj.write_bytes(b"corrupt")
    bad = sh(clone, "tools/fetch-results", "--remote", str(corrupt_copy), "scale=smoke", check=False)
    assert bad.returncode != 0
    assert f"remote 'fetch' ({corrupt_copy}) is missing or has corrupt copies" in bad.stderr
    assert tree_hash(clone / "results") == before


def test_dvc_yaml_is_what_the_dag_needs(project):
    """The committed dvc.yaml stores every non-git product of the default DAG (tools/dvc-stage --check)."""
    sh(project, "git", "init", "-q")
    proc = sh(project, sys.executable, "tools/dvc-stage", "--check", check=False)
    assert proc.returncode == 0, f"dvc.yaml is stale; run tools/dvc-stage:\n{proc.stdout}"


def test_report_products_are_deterministic(smoke_project, tmp_path):
    """Regenerating tables, figures, claims, scorecard, README and numbers from the same runs gives the same bytes."""
    root = tmp_path / "copy"
    shutil.copytree(smoke_project, root, symlinks=True)
    snakemake(root, "--config", "scale=smoke", "--", f"{SMOKE}/README.md")
    first = {p: p.read_bytes() for p in published(root)}
    report_rules = [f"{p}_report" for p in sorted({p.parent.name for p in (root / SMOKE).glob("*/claims.json")})]
    snakemake(root, "--config", "scale=smoke", "--forcerun", *report_rules, "--", f"{SMOKE}/README.md")
    second = {p: p.read_bytes() for p in published(root)}
    assert set(first) == set(second) and len(first) > 10
    changed = sorted(str(p.relative_to(root)) for p in first if first[p] != second[p])
    assert not changed, f"not byte-identical after regeneration: {changed}"


def published(root: Path) -> list[Path]:
    res = root / SMOKE
    return sorted([res / "CLAIMS.md", res / "README.md", res / "numbers.tex", *res.glob("*/claims.json"),
                   *res.glob("*/tables/*"), *res.glob("*/figures/*")])
