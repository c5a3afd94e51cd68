"""Applies `sql/*.sql` to Postgres in file-name order, each once, recorded in a table.

The files are read from the installed package (`sql/` ships as `core.sql`), so an app
installed from a wheel migrates too. They are what a Supabase user pastes into the SQL
editor, so each must also be safe to run by hand. An advisory lock keeps two app processes
from migrating at once.
"""

from __future__ import annotations

import logging
from importlib.resources.abc import Traversable

import psycopg

from core.jobs.queries import sql_files

log = logging.getLogger(__name__)

MIGRATIONS_DIR: Traversable = sql_files()
_LOCK_KEY = 7_461_736_115  # any constant shared by every TenkaiGen process

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS tenkaigen_migrations (
    name        text PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


def migration_files(migrations_dir: Traversable = MIGRATIONS_DIR) -> list[Traversable]:
    """Every migration file, in the order they are applied (`sqlite/` and `queries/` are folders, not migrations)."""
    files = (f for f in migrations_dir.iterdir() if f.is_file() and f.name.endswith(".sql"))
    return sorted(files, key=lambda f: f.name)


def migration_names(migrations_dir: Traversable = MIGRATIONS_DIR) -> list[str]:
    return [f.name for f in migration_files(migrations_dir)]


def pending_migrations(database_url: str, migrations_dir: Traversable = MIGRATIONS_DIR, connect_timeout_s: float = 10) -> list[str]:
    """Names of the migration files not yet recorded as applied."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=max(1, int(connect_timeout_s))) as conn:
        conn.execute(_CREATE_LEDGER)
        applied = {r[0] for r in conn.execute("SELECT name FROM tenkaigen_migrations")}
    return [name for name in migration_names(migrations_dir) if name not in applied]


def apply_migrations(database_url: str, migrations_dir: Traversable = MIGRATIONS_DIR, connect_timeout_s: float = 10) -> list[str]:
    """Apply every pending migration, each in its own transaction; return the names applied."""
    applied_now: list[str] = []
    with psycopg.connect(database_url, autocommit=True, connect_timeout=max(1, int(connect_timeout_s))) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(_CREATE_LEDGER)
            done = {r[0] for r in conn.execute("SELECT name FROM tenkaigen_migrations")}
            for migration in migration_files(migrations_dir):
                if migration.name in done:
                    continue
                with conn.transaction():
                    conn.execute(migration.read_text())
                    conn.execute("INSERT INTO tenkaigen_migrations (name) VALUES (%s)", (migration.name,))
                log.info("migration applied name=%s", migration.name)
                applied_now.append(migration.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now
