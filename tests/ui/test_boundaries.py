"""ui/ builds components and calls services: it never reaches a database or a bucket itself."""

from __future__ import annotations

import ast
from pathlib import Path

import ui

FORBIDDEN = ("boto3", "botocore", "psycopg", "psycopg_pool", "sqlite3", "core.storage", "core.jobs.sqlite_store",
             "core.jobs.postgres_store", "core.jobs.migrations")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_ui_module_imports_a_database_or_storage_backend():
    offenders = {
        f"{path.name}: {name}"
        for path in Path(ui.__file__).parent.glob("*.py")
        for name in imported_modules(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    }
    assert offenders == set()
