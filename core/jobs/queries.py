"""The SQL files the stores run, read from the installed package (the repository's `sql/`, as `core.sql`).

`sql/queries/<dialect>.sql` holds one block per statement, each opened by a `-- name --` line
(procrastinate's `queries.sql` layout); comment lines right after the name describe it and are
dropped. `load_queries(dialect)` returns the blocks by name.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from importlib import resources
from pathlib import Path
from importlib.resources.abc import Traversable
from typing import Literal

SQL_PACKAGE = "core.sql"

Dialect = Literal["postgres", "sqlite"]

_BLOCK_NAME = re.compile(r"^-- ([a-z0-9_]+) --\n(?:--.*\n)*", re.MULTILINE)


def sql_files() -> Traversable:
    """The shipped `sql/` folder: migrations at the top, `sqlite/` and `queries/` below."""
    return resources.files(SQL_PACKAGE)


def sqlite_schema() -> str:
    """The SQLite database's tables, indexes and trigger; every statement safe to run again."""
    return (sql_files() / "sqlite" / "schema.sql").read_text()


def open_sqlite(path: Path) -> sqlite3.Connection:
    """A connection to the SQLite jobs database at `path` (made if missing) with its schema, shared
    by the job, account and publishing stores: WAL, a busy timeout (every process waits its turn for
    the write lock), autocommit, rows by column name, usable from any thread behind the store's lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, timeout=10, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.executescript(sqlite_schema())
    return conn


@cache
def load_queries(dialect: Dialect) -> dict[str, str]:
    """Every named statement of `dialect`, by name."""
    return parse_queries((sql_files() / "queries" / f"{dialect}.sql").read_text())


def parse_queries(text: str) -> dict[str, str]:
    """`-- name --` blocks to {name: statement}; text before the first block is the file's header."""
    parts = _BLOCK_NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = body.strip()
    return queries
