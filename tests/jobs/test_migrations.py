import psycopg
import pytest

from core.jobs.migrations import MIGRATIONS_DIR, apply_migrations, pending_migrations

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
