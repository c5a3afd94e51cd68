"""`python app.py migrate`: the app's own migration runner, with what it did printed."""

from __future__ import annotations

import pytest

from core.jobs.migrations import migration_names, pending_migrations


def test_on_sqlite_there_is_nothing_to_migrate_and_it_says_why(run_app):
    result = run_app("migrate")
    assert result.code == 0
    assert "SQLite" in result.out and "schema is created when the app starts" in result.out


@pytest.mark.postgres
@pytest.mark.slow
def test_migrate_applies_pending_files_then_reports_up_to_date(run_app, monkeypatch, empty_pg_url: str):
    monkeypatch.setenv("DATABASE_URL", empty_pg_url)
    first = run_app("migrate")
    assert first.code == 0
    assert "applied 015_create_generation_jobs_table.sql" in first.out
    assert pending_migrations(empty_pg_url) == []
    second = run_app("migrate")
    assert second.code == 0 and f"up to date ({len(migration_names())} migration(s) applied)" in second.out
    assert run_app("doctor").line("database").startswith("✓")


@pytest.mark.postgres
def test_migrate_against_an_unreachable_database_fails_with_one_error_line(run_app, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    result = run_app("migrate")
    assert result.code == 1
    assert result.err.startswith("error: database:") and "DATABASE_URL" in result.err
    assert "Traceback" not in result.err
