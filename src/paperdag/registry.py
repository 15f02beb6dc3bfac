"""Find paper packages and the library files each one depends on (without importing them).

Snakemake notices edits to a rule's script but not to modules it imports; the rules
therefore list `library_sources(...)` as inputs, found by following `paperdag`
imports statically (cheap, no torch import at DAG-build time).
"""
from __future__ import annotations

import ast
import importlib
from functools import lru_cache
from pathlib import Path
from types import ModuleType

PACKAGE_ROOT = Path(__file__).resolve().parent


def paper_spec(paper: str) -> ModuleType:
    """The light `spec` module of a paper (paths, job grouping; no torch)."""
    return importlib.import_module(f"paperdag.papers.{paper}.spec")


def _module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    if not parts:
        return PACKAGE_ROOT / "__init__.py"
    rel = Path(*parts)
    for candidate in (PACKAGE_ROOT / rel.with_suffix(".py"), PACKAGE_ROOT / rel / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text())
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    # Module-level imports only: an import inside a function (e.g. a report helper in
    # stages.py) is that function's dependency, and the rule calling it lists it itself.
    for node in _top_level(tree):
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


def _top_level(tree: ast.Module):
    """Import nodes outside function bodies (module level, including if/try blocks)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        todo.extend(ast.iter_child_nodes(node))


@lru_cache(maxsize=None)
def library_sources(*modules: str) -> tuple[str, ...]:
    """All paperdag source files that `modules` import, transitively (sorted paths)."""
    seen: dict[str, Path] = {}
    todo = list(modules)
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
    return tuple(sorted({str(p) for p in seen.values()}))
