"""`python app.py stats`: the monitoring figures, from the same JobStats the admin tab shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.jobs.postgres_store import PostgresJobStore
from core.jobs.sqlite_store import SqliteJobStore
from tests.support.jobs import KNOWN_JOBS, SINCE, JobSeeder


def expect_known_figures(out: str) -> None:
    assert "Jobs created in the last 7 days" in out
    assert "total          10" in out
    assert "completed      5" in out and "failed         2" in out
    assert "canceled       1" in out and "in flight      2" in out
    assert "success rate   71.4%" in out
    assert "avg 4.0 s · p50 3.0 s · p95 8.8 s" in out
    assert "by style       anime 7, watercolor 3" in out
    assert "by product     t-shirt 5, mug 3, poster 2" in out
    assert f"  {SINCE.date().isoformat()}      3 jobs      2 completed      1 failed" in out
    failures = out.split("Recent failures", 1)[1].splitlines()[1:]
    assert "anime/poster  worker timed out" in failures[0]
    assert "watercolor/t-shirt  CUDA out of memory" in failures[1]


def test_stats_on_sqlite(run_app, data_dir: Path):
    store = SqliteJobStore(data_dir / "tenkaigen.sqlite3")
    seeder = JobSeeder(store, sqlite_path=data_dir / "tenkaigen.sqlite3")
    for seed in KNOWN_JOBS:
        seeder.add(seed)
    store.close()
    result = run_app("stats", "--days", "7")
    assert result.code == 0, result.err
    expect_known_figures(result.out)


@pytest.mark.postgres
@pytest.mark.slow
def test_stats_on_postgres(run_app, monkeypatch, pg_url: str, pg_store: PostgresJobStore):
    seeder = JobSeeder(pg_store, pg_url=pg_url)
    for seed in KNOWN_JOBS:
        seeder.add(seed)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    result = run_app("stats", "--days", "7")
    assert result.code == 0, result.err
    expect_known_figures(result.out)


def test_stats_defaults_to_thirty_days_and_handles_no_jobs(run_app):
    result = run_app("stats")
    assert result.code == 0
    assert "last 30 days" in result.out and "success rate   -" in result.out
    assert "Recent failures" not in result.out


@pytest.mark.postgres
@pytest.mark.slow
def test_stats_on_an_unmigrated_postgres_says_to_migrate(run_app, monkeypatch, empty_pg_url: str):
    monkeypatch.setenv("DATABASE_URL", empty_pg_url)
    result = run_app("stats")
    assert result.code == 1 and "python app.py migrate" in result.err


