"""SQLite job store: the embedded default. WAL mode, so several processes can share the file."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from core.errors import InvalidTransition, JobNotFound
from core.jobs.history import DELETABLE_STATUSES, HistoryFilter, still_running
from core.jobs.models import GpuUsage, Job, NewJob
from core.jobs.queries import load_queries, open_sqlite
from core.jobs.status import JobStatus
from core.jobs.transitions import TransitionMethods, TransitionWrite, clipped_error
from core.jobs.quotas import DAY, MINUTE, QuotaLimits, QuotaUsage, check_quota
from core.ops.stats import (
    RECENT_FAILURES_LIMIT,
    DayCount,
    FailureRow,
    JobStats,
    ProcessingTimes,
    StatusCounts,
    as_utc,
    assemble_job_stats,
    gpu_totals,
    interpolate,
    percentile_position,
)

QUERIES = load_queries("sqlite")
# a process silent this long is long gone: its heartbeat row is deleted
FORGET_PROCESSES_AFTER = timedelta(days=1)
# columns added to generation_jobs after its first release, each with an `add_<column>` query
ADDED_COLUMNS = ("runner", "upload_failures",  # 031
                 "callback_url", "callback_attempts", "callback_state",  # 032
                 "gpu_seconds", "cold_start_seconds",  # 034
                 "favorite",  # 033
                 "gpu_wait", "queue_ahead")  # 036


def _now() -> str:
    return _format_time(datetime.now(UTC))


def _format_time(moment: datetime) -> str:
    """The stored text form: UTC ISO-8601, so text order is time order."""
    return as_utc(moment).isoformat(sep=" ", timespec="microseconds")


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class SqliteJobStore(TransitionMethods):
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._conn = open_sqlite(path)
        with self._lock:
            self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A file made before a column was added gains it (SQLite has no ADD COLUMN IF NOT EXISTS)."""
        present = {row["name"] for row in self._conn.execute(QUERIES["job_columns"])}
        for column in ADDED_COLUMNS:
            if column not in present:
                try:
                    self._conn.execute(QUERIES[f"add_column_{column}"])
                except sqlite3.OperationalError as exc:  # another process added it first
                    if "duplicate column" not in str(exc):
                        raise

    # --- reads -------------------------------------------------------------------------
    def get(self, job_id: str) -> Job:
        with self._lock:
            row = self._conn.execute(QUERIES["get_job"], (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return _row_to_job(row)

    def list_for_user(self, user_id: str, limit: int = 20, offset: int = 0) -> list[Job]:
        with self._lock:
            rows = self._conn.execute(QUERIES["list_jobs_for_user"], (user_id, limit, offset)).fetchall()
        return [_row_to_job(r) for r in rows]

    def history(self, user_id: str, filters: HistoryFilter, limit: int = 20, offset: int = 0) -> list[Job]:
        statuses = filters.status_values()
        params = {
            "user": user_id,
            "statuses": None if statuses is None else json.dumps(statuses),
            "style": filters.style,
            "product": filters.product,
            "favorite": None if filters.favorite is None else int(filters.favorite),
            "limit": limit,
            "offset": offset,
        }
        with self._lock:
            rows = self._conn.execute(QUERIES["list_history"], params).fetchall()
        return [_row_to_job(r) for r in rows]

    def queue_position(self, job_id: str) -> int | None:
        with self._lock:
            row = self._conn.execute(QUERIES["queue_position"], (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return int(row["ahead"]) if row["status"] == JobStatus.PENDING.value else None

    def stats(self, since: datetime) -> JobStats:
        now = datetime.now(UTC)
        window = _format_time(since)
        with self._lock:
            counts = self._conn.execute(QUERIES["stats_counts"], (window,)).fetchone()
            times = self._processing_times(window)
            per_day = self._conn.execute(QUERIES["stats_per_day"], (window,)).fetchall()
            by_style = self._conn.execute(QUERIES["stats_by_style"], (window,)).fetchall()
            by_product = self._conn.execute(QUERIES["stats_by_product"], (window,)).fetchall()
            failures = self._conn.execute(QUERIES["stats_recent_failures"], (window, RECENT_FAILURES_LIMIT)).fetchall()
            gpu = self._conn.execute(QUERIES["stats_gpu"], (window,)).fetchall()
        return assemble_job_stats(
            since=since,
            now=now,
            counts=StatusCounts(*(int(v or 0) for v in counts)),
            times=times,
            per_day=[DayCount(date.fromisoformat(r[0]), r[1], r[2], r[3]) for r in per_day],
            by_style=dict(by_style),
            by_product=dict(by_product),
            recent_failures=[
                FailureRow(r["id"], datetime.fromisoformat(r["created_at"]), r["style"], r["product"], r["error"])
                for r in failures
            ],
            gpu=gpu_totals(tuple(r) for r in gpu),
        )

    def _processing_times(self, window: str) -> ProcessingTimes:
        """Count, sum and percentiles of completed jobs' processing times (caller holds the lock).

        SQLite has no percentile_cont: read the two neighbouring sorted values and interpolate
        exactly as Postgres does.
        """
        count, total = self._conn.execute(QUERIES["stats_timed_totals"], (window,)).fetchone()
        if not count:
            return ProcessingTimes()

        def percentile(fraction: float) -> float:
            lower, weight = percentile_position(fraction, count)
            values = [r[0] for r in self._conn.execute(QUERIES["stats_timed_neighbours"], (window, lower))]
            return interpolate(values[0], values[-1], weight)

        return ProcessingTimes(count=count, total_ms=total, p50_ms=percentile(0.5), p95_ms=percentile(0.95))

    # --- writes ------------------------------------------------------------------------
    def create(self, new_job: NewJob) -> Job:
        with self._lock:
            return self._insert(new_job)

    def create_within_quota(self, new_job: NewJob, limits: QuotaLimits, now: datetime | None = None) -> Job:
        """Insert the job unless the user is over a limit (QuotaExceeded).

        BEGIN IMMEDIATE takes SQLite's write lock before counting, so processes sharing
        the file cannot overshoot either.
        """
        if limits.unlimited:
            return self.create(new_job)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                check_quota(self._usage(new_job.user_id, now), limits)
                job = self._insert(new_job)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return job

    def quota_usage(self, user_id: str, now: datetime | None = None) -> QuotaUsage:
        with self._lock:
            return self._usage(user_id, now)

    def claim_stale_pending(self, older_than_s: float, now: datetime | None = None) -> Job | None:
        """Move the oldest pending job created more than `older_than_s` ago to processing.

        One UPDATE statement: SQLite runs writers one at a time, so each job is claimed once.
        """
        cutoff = _format_time((now or datetime.now(UTC)) - timedelta(seconds=older_than_s))
        stamp = _now()
        with self._lock:
            row = self._conn.execute(QUERIES["claim_stale_pending"], (stamp, stamp, cutoff)).fetchone()
        return _row_to_job(row) if row else None

    def fail_stale_processing(self, older_than_s: float, error: str, now: datetime | None = None) -> list[Job]:
        """Fail every processing job not updated (started, progress) for `older_than_s`."""
        cutoff = _format_time((now or datetime.now(UTC)) - timedelta(seconds=older_than_s))
        stamp = _now()
        with self._lock:
            rows = self._conn.execute(
                QUERIES["fail_stale_processing"], (clipped_error(error), stamp, stamp, stamp, cutoff)
            ).fetchall()
        return [_row_to_job(r) for r in rows]

    def fail_orphaned_in_process(
        self, me: str, grace_s: float, heartbeat_timeout_s: float, error: str, now: datetime | None = None
    ) -> list[Job]:
        moment = now or datetime.now(UTC)
        grace_cutoff = _format_time(moment - timedelta(seconds=grace_s))
        heartbeat_cutoff = _format_time(moment - timedelta(seconds=heartbeat_timeout_s))
        stamp = _now()
        with self._lock:
            rows = self._conn.execute(
                QUERIES["fail_orphaned_in_process"],
                (clipped_error(error), stamp, stamp, stamp, me, grace_cutoff, heartbeat_cutoff),
            ).fetchall()
        return [_row_to_job(r) for r in rows]

    def record_runner(self, job_id: str, runner: str) -> None:
        with self._lock:
            self._conn.execute(QUERIES["record_runner"], (runner, _now(), job_id))

    def record_worker_queue(self, job_id: str, gpu_wait: str, ahead: int | None) -> None:
        with self._lock:
            self._conn.execute(QUERIES["record_worker_queue"], (gpu_wait, ahead, _now(), job_id))

    def record_upload_failure(self, job_id: str, error: str) -> int:
        with self._lock:
            row = self._conn.execute(QUERIES["record_upload_failure"], (clipped_error(error), _now(), job_id)).fetchone()
        return int(row[0]) if row else 0

    def beat(self, runner: str, now: datetime | None = None) -> None:
        moment = now or datetime.now(UTC)
        stamp = _format_time(moment)
        with self._lock:
            self._conn.execute(QUERIES["beat"], (runner, stamp, stamp))
            self._conn.execute(QUERIES["forget_stopped_processes"], (_format_time(moment - FORGET_PROCESSES_AFTER),))

    def _insert(self, new_job: NewJob) -> Job:
        now = _now()
        row = new_job.model_dump()
        row.update(
            id=str(uuid.uuid4()),
            parsed_prompt=json.dumps(new_job.parsed_prompt),
            status=JobStatus.PENDING.value,
            created_at=now,
            updated_at=now,
        )
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        stored = self._conn.execute(
            f"INSERT INTO generation_jobs ({columns}) VALUES ({marks}) RETURNING *", tuple(row.values())
        ).fetchone()
        return _row_to_job(stored)

    def _usage(self, user_id: str, now: datetime | None) -> QuotaUsage:
        moment = now or datetime.now(UTC)
        minute_ago, day_ago = _format_time(moment - MINUTE), _format_time(moment - DAY)
        row = self._conn.execute(
            QUERIES["quota_usage"], (minute_ago, minute_ago, user_id, user_id, day_ago)
        ).fetchone()
        return QuotaUsage(
            now=moment,
            last_minute=row["last_minute"],
            last_day=row["last_day"],
            in_flight=row["in_flight"],
            oldest_in_minute=_parse_time(row["oldest_in_minute"]),
            oldest_in_day=_parse_time(row["oldest_in_day"]),
        )

    def record_callback_attempt(self, job_id: str, state: str | None) -> Job:
        with self._lock:
            row = self._conn.execute(QUERIES["record_callback_attempt"], (state, job_id)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return _row_to_job(row)

    def abandon_callback(self, job_id: str) -> None:
        with self._lock:
            self._conn.execute(QUERIES["abandon_callback"], (job_id,))

    def owed_callbacks(self, older_than_s: float, now: datetime | None = None, limit: int = 100) -> list[Job]:
        cutoff = _format_time((now or datetime.now(UTC)) - timedelta(seconds=older_than_s))
        with self._lock:
            rows = self._conn.execute(QUERIES["owed_callbacks"], (cutoff, limit)).fetchall()
        return [_row_to_job(r) for r in rows]

    def record_progress(self, job_id: str, step: int, total: int) -> None:
        with self._lock:
            self._conn.execute(QUERIES["record_progress"], (step, total, _now(), job_id))

    def record_gpu_usage(self, job_id: str, usage: GpuUsage) -> None:
        with self._lock:
            self._conn.execute(QUERIES["record_gpu_usage"], (usage.gpu_seconds, usage.cold_start_seconds, job_id))

    def set_favorite(self, job_id: str, on: bool) -> Job:
        with self._lock:
            row = self._conn.execute(QUERIES["set_favorite"], (int(on), _now(), job_id)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return _row_to_job(row)

    def delete_finished(self, job_id: str) -> None:
        with self._lock:
            deleted = self._conn.execute(
                QUERIES["delete_finished_job"], (job_id, json.dumps(DELETABLE_STATUSES))
            ).fetchone()
            current = None if deleted else self._conn.execute(QUERIES["job_status"], (job_id,)).fetchone()
        if deleted:
            return
        if current is None:
            raise JobNotFound(job_id)
        raise still_running(job_id, current["status"])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _apply(self, job_id: str, write: TransitionWrite) -> Job:
        now = _now()
        assignments = ["status = ?", "updated_at = ?"]
        params: list[Any] = [write.target.value, now]
        for column, value in write.values.items():
            assignments.append(f"{column} = ?")
            params.append(value)
        if write.stamp_started:
            assignments.append("started_at = ?")
            params.append(now)
        if write.stamp_completed:
            assignments.append("completed_at = ?")
            params.append(now)
        if write.measure_processing_time:
            assignments.append(f"processing_time_ms = {QUERIES['processing_time_ms']}")
            params.append(now)
        sources = write.sources
        sql = (
            f"UPDATE generation_jobs SET {', '.join(assignments)} "
            f"WHERE id = ? AND status IN ({', '.join('?' for _ in sources)}) RETURNING *"
        )
        with self._lock:
            row = self._conn.execute(sql, (*params, job_id, *sources)).fetchone()
            if row is None:
                current = self._conn.execute(QUERIES["job_status"], (job_id,)).fetchone()
        if row is not None:
            return _row_to_job(row)
        if current is None:
            raise JobNotFound(job_id)
        raise InvalidTransition(job_id, current["status"], write.target.value)


def _row_to_job(row: sqlite3.Row) -> Job:
    data = dict(row)
    data["parsed_prompt"] = json.loads(data["parsed_prompt"] or "{}")
    for column in ("created_at", "started_at", "completed_at", "updated_at"):
        data[column] = _parse_time(data[column])
    return Job.model_validate(data)
