"""The layering in ``pyproject.toml`` covers every module, and no import hides from it.

import-linter checks the layers (``lint-imports``, run by CI); these tests keep the contract
honest: a module left out of every layer would be checked by nothing, and an import moved inside a
function to dodge a cycle would still be a cycle, only hidden.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cycle", "processes", "roles")


def _layered_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["id"] == "layers"]
    named: set[str] = set()
    for layer in layers["layers"]:
        for part in layer.replace("|", ":").split(":"):
            named.add(part.strip())
    return named


def _project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts or "node_modules" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _imports_project_modules(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(
        _is_project_import(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
    )


def test_every_module_is_in_a_layer() -> None:
    """A package whose ``__init__`` imports nothing of the project may stay unnamed."""
    named = _layered_modules()
    left_out = sorted(
        module
        for module, path in _project_modules().items()
        if module not in PACKAGES
        and not (path.name == "__init__.py" and not _imports_project_modules(path))
        and not any(module == layer or module.startswith(layer + ".") for layer in named)
    )
    assert left_out == [], f"name these modules in a layer of [tool.importlinter]: {left_out}"


def _is_project_import(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] in PACKAGES
    return any(alias.name.split(".")[0] in PACKAGES for alias in node.names)


def test_no_project_module_is_imported_inside_a_function() -> None:
    """Unless a comment just above says which rule of Django's app loading makes it wait."""
    hidden = []
    for module, path in _project_modules().items():
        source = path.read_text()
        lines = source.splitlines()
        for function in ast.walk(ast.parse(source)):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                if not _is_project_import(node):
                    continue
                above = "\n".join(lines[max(0, node.lineno - 6) : node.lineno - 1])
                if "app-loading" not in above:
                    hidden.append(f"{module}:{node.lineno}")
    assert hidden == [], f"imports inside functions: {hidden}"
