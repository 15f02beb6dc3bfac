"""The library files each stage depends on, found without importing them.

Snakemake notices edits to a rule's script but not to modules it imports; the rules
therefore list `library_sources(...)` as inputs, found by following `paperdag`
imports statically (cheap, no torch import at DAG-build time).
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from paperdag.contract import module_name, stage

PACKAGE_ROOT = Path(__file__).resolve().parent


def _module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    if not parts:
        return PACKAGE_ROOT / "__init__.py"
    rel = Path(*parts)
    for candidate in (PACKAGE_ROOT / rel.with_suffix(".py"), PACKAGE_ROOT / rel / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _import_targets(nodes, module: str, is_pkg: bool) -> set[str]:
    """The `paperdag` modules (and possible submodules) named by these import nodes."""
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("paperdag"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("paperdag"):
                found.add(target)
                found.update(f"{target}.{a.name}" for a in node.names)
    return found


def _import_nodes(tree: ast.Module, skip_functions: frozenset[str] = frozenset()):
    """Every import node, also inside functions, except in top-level functions named in `skip_functions`."""
    todo = [n for n in tree.body
            if not (isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in skip_functions)]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        todo.extend(ast.iter_child_nodes(node))


def _imports(path: Path, module: str, skip_functions: frozenset[str] = frozenset()) -> set[str]:
    tree = ast.parse(path.read_text())
    return _import_targets(_import_nodes(tree, skip_functions), module, path.name == "__init__.py")


def _closure(seen: dict[str, Path], todo: list[str]) -> None:
    """Add to `seen` every module reachable from `todo` (imports inside functions included)."""
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            continue
        seen[name] = path
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(2, len(parts)))  # parent packages
        todo.extend(_imports(path, name))


@cache
def library_sources(*modules: str) -> tuple[str, ...]:
    """All paperdag source files that `modules` import, transitively (sorted paths).

    Imports inside functions count (a lazy import is still a dependency of whoever calls
    the function): over-inclusion only costs an unneeded rerun, omission a stale result.
    """
    seen: dict[str, Path] = {}
    _closure(seen, list(modules))
    return tuple(sorted({str(p) for p in seen.values()}))


@cache
def stage_sources(paper: str, name: str) -> tuple[str, ...]:
    """The library files one stage of a paper can execute (sorted paths).

    The stage's module (`STAGES` in the paper's spec says which) counts with its
    module-level imports, its private helpers' imports and the stage function's own imports
    (lazy ones included), but not the imports inside the module's other public functions:
    so editing the claims imported inside `report()` reruns the report, not the training.
    A stage that declares `code` depends on exactly those modules instead.
    """
    declared = stage(paper, name)
    if declared.code:
        return library_sources(*declared.code, "paperdag.stage", "paperdag.contract")
    module = module_name(paper, declared)
    path = _module_file(module)
    if path is None:
        raise ModuleNotFoundError(f"paper '{paper}' has no {module} for its stage '{name}'")
    tree = ast.parse(path.read_text())
    other_stages = frozenset(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                             and not n.name.startswith("_") and n.name != declared.name)
    seen: dict[str, Path] = {module: path}
    todo = [".".join(module.split(".")[:i]) for i in range(2, 4)]  # parent packages
    todo += sorted(_import_targets(_import_nodes(tree, other_stages), module, False))
    todo += ["paperdag.stage"]
    _closure(seen, todo)
    return tuple(sorted({str(p) for p in seen.values()}))
