"""Jobs with chosen creation and processing times, in either store, for the stats tests."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from core.jobs import JobStatus, JobStore, NewJob

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
SINCE = TODAY - timedelta(days=6)  # a window of seven UTC days, today included


@dataclass(frozen=True)
class Seed:
    status: JobStatus
    day: int  # days after SINCE
    style: str = "anime"
    product: str = "t-shirt"
    ms: int | None = None
    error: str = "boom"
    minute: int = 0


class JobSeeder:
    """Puts jobs with a chosen creation time and processing time into either store."""

    def __init__(self, store: JobStore, *, sqlite_path: Path | None = None, pg_url: str | None = None) -> None:
        self.store = store
        self._sqlite_path = sqlite_path
        self._pg_url = pg_url

    def add(self, seed: Seed) -> str:
        job = self.store.create(NewJob(
            user_id="alice", prompt="a fox", style=seed.style, product=seed.product, width=8, height=8,
        ))
        if seed.status is not JobStatus.PENDING and seed.status is not JobStatus.CANCELED:
            self.store.mark_processing(job.id)
        if seed.status is JobStatus.COMPLETED:
            self.store.mark_completed(job.id, f"ai-generated/alice/{job.id}.png", f"/media/{job.id}.png", 1)
        elif seed.status is JobStatus.FAILED:
            self.store.mark_failed(job.id, seed.error)
        elif seed.status is JobStatus.CANCELED:
            self.store.mark_canceled(job.id)
        created = SINCE + timedelta(days=seed.day, hours=1, minutes=seed.minute)
        self._set(job.id, created, seed.ms)
        return job.id

    def _set(self, job_id: str, created: datetime, ms: int | None) -> None:
        if self._pg_url is not None:
            with psycopg.connect(self._pg_url, autocommit=True) as conn:
                conn.execute(
                    "UPDATE generation_jobs SET created_at = %s, processing_time_ms = %s WHERE id = %s",
                    (created, ms, job_id),
                )
            return
        assert self._sqlite_path is not None
        with sqlite3.connect(self._sqlite_path) as conn:
            conn.execute(
                "UPDATE generation_jobs SET created_at = ?, processing_time_ms = ? WHERE id = ?",
                (created.isoformat(sep=" ", timespec="microseconds"), ms, job_id),
            )


# In the window: 10 jobs (5 completed, 2 failed, 1 canceled, 2 in flight); completed in
# 1000, 2000, 3000, 4000 and 10000 ms; by style anime 7, watercolor 3.
KNOWN_JOBS = [
    Seed(JobStatus.COMPLETED, day=-1, ms=50_000),  # before the window: never counted
    Seed(JobStatus.COMPLETED, day=0, ms=1000),
    Seed(JobStatus.COMPLETED, day=0, product="mug", ms=2000, minute=1),
    Seed(JobStatus.FAILED, day=0, style="watercolor", ms=99_999, error="CUDA out of memory", minute=2),
    Seed(JobStatus.COMPLETED, day=2, style="watercolor", product="poster", ms=3000),
    Seed(JobStatus.COMPLETED, day=2, ms=4000, minute=1),
    Seed(JobStatus.CANCELED, day=2, minute=2),
    Seed(JobStatus.COMPLETED, day=5, product="mug", ms=10_000),
    Seed(JobStatus.FAILED, day=5, product="poster", ms=88_888, error="worker timed out", minute=1),
    Seed(JobStatus.PENDING, day=5, minute=2),
    Seed(JobStatus.PROCESSING, day=5, style="watercolor", product="mug", minute=3),
]
