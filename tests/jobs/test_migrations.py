import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from core.jobs.migrations import MIGRATIONS_DIR, apply_migrations, migration_files, pending_migrations
from tests.support.postgres import fresh_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_every_migration_is_applied_once_and_recorded(pg_url: str):
    assert pending_migrations(pg_url) == []
    assert apply_migrations(pg_url) == []  # a second run applies nothing
    with psycopg.connect(pg_url) as conn:
        recorded = [r[0] for r in conn.execute("SELECT name FROM tenkaigen_migrations ORDER BY name")]
    assert recorded == sorted(f.name for f in migration_files())


def test_the_migration_files_can_be_pasted_twice_like_in_the_supabase_editor(pg_url: str):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for migration in migration_files():
            conn.execute(migration.read_text())
        columns = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'generation_jobs'"
        )}
    assert {"id", "user_id", "prompt", "parsed_prompt", "style", "product", "status", "width", "height",
            "seed", "model", "storage_key", "image_url", "error", "processing_time_ms", "created_at",
            "started_at", "completed_at", "updated_at"} <= columns


def test_the_row_level_security_migration_is_a_no_op_on_plain_postgres(pg_url: str):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regnamespace('auth')").fetchone()[0] is None
        rls = conn.execute("SELECT relrowsecurity FROM pg_class WHERE relname = 'generation_jobs'").fetchone()[0]
        policies = conn.execute("SELECT COUNT(*) FROM pg_policies WHERE tablename = 'generation_jobs'").fetchone()[0]
    assert (rls, policies) == (False, 0)


FAKE_SUPABASE_AUTH = """
CREATE SCHEMA auth;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
    $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
DO $$ BEGIN
    CREATE ROLE authenticated NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT USAGE ON SCHEMA auth TO authenticated;
"""


@pytest.fixture
def fake_supabase_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh database with a Supabase-like `auth` schema, then every migration applied."""
    with fresh_database(pg_admin_url, "tenkaigen_rls") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(FAKE_SUPABASE_AUTH)
        apply_migrations(url)
        yield url


def test_on_supabase_a_signed_in_role_reads_only_its_own_jobs(fake_supabase_url: str):
    alice, bob = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
    with psycopg.connect(fake_supabase_url, autocommit=True) as conn:
        for user in (alice, alice, bob):
            conn.execute(
                "INSERT INTO generation_jobs (user_id, prompt, style, product, width, height) "
                "VALUES (%s, 'a fox', 'anime', 'mug', 64, 64)", (user,)
            )
        conn.execute("INSERT INTO tenkaigen_users (name, password_hash) VALUES ('ops', 'scrypt$x')")
        # Supabase grants table access to its API roles; row-level security then filters rows
        conn.execute("GRANT SELECT ON generation_jobs, tenkaigen_users TO authenticated")
        assert conn.execute("SELECT COUNT(*) FROM generation_jobs").fetchone()[0] == 3  # the owner (the app) sees all

        def seen_as(sub: str) -> tuple[set[str], int]:
            with conn.transaction():
                conn.execute("SET LOCAL ROLE authenticated")
                conn.execute("SELECT set_config('request.jwt.claim.sub', %s, true)", (sub,))
                owners = {r[0] for r in conn.execute("SELECT user_id FROM generation_jobs")}
                count = conn.execute("SELECT COUNT(*) FROM generation_jobs").fetchone()[0]
                assert conn.execute("SELECT COUNT(*) FROM tenkaigen_users").fetchone()[0] == 0
            return owners, count

        assert seen_as(alice) == ({alice}, 2)
        assert seen_as(bob) == ({bob}, 1)
        assert seen_as("") == (set(), 0)
        # pasting the migration again (Supabase SQL editor) keeps exactly one policy
        conn.execute((MIGRATIONS_DIR / "021_supabase_row_level_security.sql").read_text())
        assert conn.execute("SELECT COUNT(*) FROM pg_policies WHERE tablename = 'generation_jobs'").fetchone()[0] == 1


# --- the installed package carries the SQL --------------------------------------------------
REPO = Path(__file__).resolve().parents[2]
NOT_PACKAGED = shutil.ignore_patterns(
    ".git", ".venv", "build", "*.egg-info", "__pycache__", "test-output", "data", ".whl", ".gl", "tests", "docs", "bench"
)

# Run by the copy installed from the wheel: migrate Postgres, then use both stores, so the
# migrations, the SQLite schema and the named queries must all have shipped.
USE_THE_INSTALLED_COPY = """
import json, sys
from pathlib import Path

import core
from core.auth.accounts import SqliteAccountStore
from core.jobs.migrations import apply_migrations
from core.jobs.models import NewJob
from core.jobs.postgres_store import PostgresJobStore, open_pool
from core.jobs.sqlite_store import SqliteJobStore

url = sys.argv[1]
applied = apply_migrations(url)
new_job = NewJob(user_id="u", prompt="a fox", style="anime", product="mug", width=64, height=64)
pg = PostgresJobStore(open_pool(url, max_size=1))
pg_status = pg.mark_processing(pg.create(new_job).id).status
pg.close()
sqlite = SqliteJobStore(Path("jobs.sqlite3"))
sqlite_status = sqlite.mark_canceled(sqlite.create(new_job).id).status
sqlite.close()
accounts = SqliteAccountStore(Path("jobs.sqlite3"))
accounts.add("ops", "a long enough password")
print(json.dumps({"core": core.__file__, "applied": applied, "pg": pg_status, "sqlite": sqlite_status,
                  "accounts": accounts.count()}))
"""


@pytest.fixture
def fresh_database_url(pg_admin_url: str) -> Iterator[str]:
    """A throwaway database with nothing in it, dropped afterwards."""
    with fresh_database(pg_admin_url, "tenkaigen_wheel") as url:
        yield url


def test_an_app_installed_from_the_wheel_migrates_a_fresh_postgres(tmp_path: Path, fresh_database_url: str):
    # a copy, so building leaves no build/ or egg-info in the checkout
    source, dist, site, workdir = (tmp_path / d for d in ("source", "dist", "site", "run"))
    shutil.copytree(REPO, source, ignore=NOT_PACKAGED)
    workdir.mkdir()
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist)],
        check=True, timeout=240,
    )
    [wheel] = dist.glob("tenkaigen-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    repo_migrations = sorted(p.name for p in (REPO / "sql").glob("*.sql"))
    assert {f"core/sql/{name}" for name in repo_migrations} <= shipped
    assert {"core/sql/sqlite/schema.sql", "core/sql/queries/postgres.sql", "core/sql/queries/sqlite.sql"} <= shipped
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)], check=True, timeout=120)

    # run outside the checkout, with the installed copy ahead of the venv's editable install
    result = subprocess.run(
        [sys.executable, "-c", USE_THE_INSTALLED_COPY, fresh_database_url],
        cwd=workdir, env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    assert Path(report["core"]).is_relative_to(site)
    assert report["applied"] == repo_migrations
    assert (report["pg"], report["sqlite"], report["accounts"]) == ("processing", "canceled", 1)
    assert pending_migrations(fresh_database_url) == []
