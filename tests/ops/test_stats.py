"""JobStore.stats: the monitoring figures, identical on SQLite and on the real Postgres server.

Jobs are created through the store and moved through the status machine, then their
created_at and processing_time_ms are set by SQL, so every figure is known in advance.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from core.jobs import JobStatus, JobStore
from core.jobs.postgres_store import PostgresJobStore
from core.ops.stats import DayCount, interpolate, percentile_position, window_start
from tests.support.jobs import KNOWN_JOBS, SINCE, JobSeeder, Seed


@pytest.fixture
def seeder(job_store: JobStore, tmp_path: Path, request: pytest.FixtureRequest) -> JobSeeder:
    pg_url = request.getfixturevalue("pg_url") if isinstance(job_store, PostgresJobStore) else None
    return JobSeeder(job_store, sqlite_path=tmp_path / "jobs.sqlite3", pg_url=pg_url)




def test_counts_cover_the_window_and_split_by_status(job_store: JobStore, seeder: JobSeeder):
    for seed in KNOWN_JOBS:
        seeder.add(seed)
    stats = job_store.stats(SINCE)
    assert stats.window_days == round((datetime.now(UTC) - SINCE) / timedelta(days=1))
    assert (stats.total, stats.completed, stats.failed, stats.canceled, stats.in_flight) == (10, 5, 2, 1, 2)


def test_success_rate_is_completed_over_finished(job_store: JobStore, seeder: JobSeeder):
    for seed in KNOWN_JOBS:
        seeder.add(seed)
    assert job_store.stats(SINCE).success_rate == pytest.approx(5 / 7)


def test_processing_times_are_those_of_completed_jobs_with_continuous_percentiles(job_store: JobStore, seeder: JobSeeder):
    for seed in KNOWN_JOBS:
        seeder.add(seed)
    stats = job_store.stats(SINCE)
    # completed in the window: 1000, 2000, 3000, 4000, 10000 ms (failed jobs' times left out)
    assert stats.avg_processing_ms == 4000.0
    assert stats.p50_processing_ms == 3000.0
    assert stats.p95_processing_ms == 8800.0  # 4000 + 0.8 * (10000 - 4000)


def test_percentiles_interpolate_between_neighbours_for_an_even_count(job_store: JobStore, seeder: JobSeeder):
    for ms in (400, 100, 300, 200):
        seeder.add(Seed(JobStatus.COMPLETED, day=1, ms=ms))
    stats = job_store.stats(SINCE)
    assert (stats.avg_processing_ms, stats.p50_processing_ms, stats.p95_processing_ms) == (250.0, 250.0, 385.0)


def test_jobs_per_day_lists_every_utc_day_of_the_window_zero_filled(job_store: JobStore, seeder: JobSeeder):
    for seed in KNOWN_JOBS:
        seeder.add(seed)
    days = job_store.stats(SINCE).jobs_per_day
    first: date = SINCE.date()
    through_today = (datetime.now(UTC).date() - first).days + 1  # 7, unless midnight passed meanwhile
    assert [d.day for d in days] == [first + timedelta(days=i) for i in range(through_today)]
    assert days[0] == DayCount(first, total=3, completed=2, failed=1)
    assert days[2] == DayCount(first + timedelta(days=2), total=3, completed=2, failed=0)
    assert days[5] == DayCount(first + timedelta(days=5), total=4, completed=1, failed=1)
    assert all(d.total == 0 for i, d in enumerate(days) if i not in (0, 2, 5))


def test_by_style_and_by_product_count_every_job_most_used_first(job_store: JobStore, seeder: JobSeeder):
    for seed in KNOWN_JOBS:
        seeder.add(seed)
    stats = job_store.stats(SINCE)
    assert list(stats.by_style.items()) == [("anime", 7), ("watercolor", 3)]
    assert list(stats.by_product.items()) == [("t-shirt", 5), ("mug", 3), ("poster", 2)]


def test_recent_failures_are_the_latest_failed_jobs_with_their_errors(job_store: JobStore, seeder: JobSeeder):
    ids = {seed.error: seeder.add(seed) for seed in KNOWN_JOBS if seed.status is JobStatus.FAILED}
    failures = job_store.stats(SINCE).recent_failures
    assert [(f.job_id, f.error, f.style, f.product) for f in failures] == [
        (ids["worker timed out"], "worker timed out", "anime", "poster"),
        (ids["CUDA out of memory"], "CUDA out of memory", "watercolor", "t-shirt"),
    ]
    assert failures[0].created_at == SINCE + timedelta(days=5, hours=1, minutes=1)


def test_recent_failures_keep_only_the_latest_ten(job_store: JobStore, seeder: JobSeeder):
    for minute in range(12):
        seeder.add(Seed(JobStatus.FAILED, day=3, minute=minute, error=f"error {minute}"))
    failures = job_store.stats(SINCE).recent_failures
    assert [f.error for f in failures] == [f"error {m}" for m in range(11, 1, -1)]


def test_an_empty_window_has_no_rates_or_times(job_store: JobStore):
    stats = job_store.stats(window_start(30))
    assert (stats.total, stats.success_rate, stats.avg_processing_ms, stats.p95_processing_ms) == (0, None, None, None)
    assert stats.window_days == 30
    assert len(stats.jobs_per_day) == 31 and all(d.total == 0 for d in stats.jobs_per_day)
    assert stats.by_style == {} and stats.recent_failures == []


def test_percentile_position_matches_percentile_cont():
    assert percentile_position(0.95, 5) == (3, pytest.approx(0.8))
    assert percentile_position(0.5, 1) == (0, 0.0)
    assert interpolate(4000, 10_000, 0.8) == pytest.approx(8800)


def test_a_window_needs_at_least_one_day():
    with pytest.raises(ValueError):
        window_start(0)
