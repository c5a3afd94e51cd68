from collections.abc import Iterator

import psycopg
import pytest

from core.jobs.migrations import MIGRATIONS_DIR, apply_migrations, pending_migrations
from tests.support.postgres import fresh_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_every_migration_is_applied_once_and_recorded(pg_url: str):
    assert pending_migrations(pg_url) == []
    assert apply_migrations(pg_url) == []  # a second run applies nothing
    with psycopg.connect(pg_url) as conn:
        recorded = [r[0] for r in conn.execute("SELECT name FROM tenkaigen_migrations ORDER BY name")]
    assert recorded == sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))


def test_the_migration_files_can_be_pasted_twice_like_in_the_supabase_editor(pg_url: str):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
            conn.execute(path.read_text())
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
