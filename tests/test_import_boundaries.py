"""The dependency rules of docs/architecture.md, checked on the source (every import, at a
module's top or inside a function; relative imports resolved):

- core/ is the domain: it imports none of api/, ui/, cli/, modal_app/ or app.py;
- modal_app/ (the GPU worker) takes nothing from core but core.worker_contract, and that
  contract needs nothing from core but the domain errors;
- ui/ builds components over the services: no database or bucket client, no store, no api/cli/worker;
- api/ and cli/ are doors side by side: neither imports the other, nor the worker.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP_LAYERS = ("api", "ui", "cli", "modal_app", "app")
STORAGE_AND_DATABASE = ("boto3", "botocore", "psycopg", "psycopg_pool", "sqlite3", "core.storage",
                        "core.jobs.sqlite_store", "core.jobs.postgres_store", "core.jobs.migrations")


def imported_modules(path: Path) -> set[str]:
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
            else:
                names.add(node.module or "")
    return names


def under(name: str, modules: tuple[str, ...]) -> bool:
    return any(name == module or name.startswith(module + ".") for module in modules)


def offenders(folder: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> dict[str, set[str]]:
    """`{file: imports under forbidden and not under allowed}` for every .py file below folder."""
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        bad = {n for n in imported_modules(path) if under(n, forbidden) and not under(n, allowed)}
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_the_walk_sees_imports_at_all():
    # a rule that finds nothing because it looks in the wrong place would pass forever
    assert offenders("modal_app", ("core",)), "no core import found in modal_app/"
    assert offenders("ui", ("core",)), "no core import found in ui/"


def test_core_imports_no_door_and_not_the_worker():
    assert offenders("core", APP_LAYERS) == {}


def test_the_worker_imports_nothing_from_core_but_the_worker_contract():
    assert offenders("modal_app", ("core", "api", "ui", "cli", "app"), allowed=("core.worker_contract",)) == {}


def test_the_worker_contract_needs_nothing_from_core_but_the_domain_errors():
    assert offenders("core/worker_contract", ("core",), allowed=("core.worker_contract", "core.errors")) == {}


def test_no_ui_module_imports_a_database_or_storage_backend():
    assert offenders("ui", STORAGE_AND_DATABASE) == {}


@pytest.mark.parametrize(("folder", "forbidden", "allowed"), [
    ("ui", ("api", "cli", "modal_app", "app"), ()),
    ("api", ("ui", "cli", "modal_app", "app"), ()),
    # serving opens Gradio's share tunnel (ui.share); nothing else of the studio
    ("cli", ("api", "ui", "modal_app", "app"), ("ui.share",)),
])
def test_the_doors_do_not_import_each_other(folder: str, forbidden: tuple[str, ...], allowed: tuple[str, ...]):
    assert offenders(folder, forbidden, allowed) == {}
