"""The worker ships `core.worker_contract` and nothing else of the app; the app's core never imports the worker."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
            else:
                names.add(node.module or "")
    return names


def imports_of(folder: str, prefix: str) -> dict[str, set[str]]:
    """`{file: modules under prefix}` for each file in folder (recursively) that imports any."""
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        hits = {name for name in imported_modules(path) if name == prefix or name.startswith(prefix + ".")}
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    return found


def outside(allowed: tuple[str, ...], imports: dict[str, set[str]]) -> dict[str, set[str]]:
    """The imports not under any of the allowed modules, by file."""
    def is_allowed(name: str) -> bool:
        return any(name == module or name.startswith(module + ".") for module in allowed)

    return {file: bad for file, names in imports.items() if (bad := {name for name in names if not is_allowed(name)})}


def test_the_worker_imports_nothing_from_core_but_the_worker_contract():
    assert imports_of("modal_app", "core"), "the walk found no core imports at all: is it looking in the right place?"
    assert outside(("core.worker_contract",), imports_of("modal_app", "core")) == {}


def test_the_worker_contract_needs_nothing_from_core_but_the_domain_errors():
    # so the worker gets the contract and the errors it raises (the app maps them to 401/422), no more
    assert outside(("core.worker_contract", "core.errors"), imports_of("core/worker_contract", "core")) == {}


def test_core_never_imports_the_worker():
    assert imports_of("core", "modal_app") == {}
