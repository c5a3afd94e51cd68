"""Postgres job store (Supabase or any Postgres 15+), psycopg 3 with a connection pool."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from core.errors import InvalidTransition, JobNotFound
from core.jobs.history import DELETABLE_STATUSES, HistoryFilter, still_running
from core.jobs.models import GpuUsage, Job, NewJob
from core.jobs.queries import load_queries
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
)

QUERIES = load_queries("postgres")

# advisory lock namespace (int4) for the per-user quota check; the key is hashtext(user_id)
_QUOTA_LOCK_NAMESPACE = 7461
# a process silent this long is long gone: its heartbeat row is deleted
FORGET_PROCESSES_AFTER_S = 24 * 3600.0


def open_pool(database_url: str, max_size: int = 10, timeout_s: float = 10.0) -> ConnectionPool:
    """A pool whose connections are checked before use, so a killed connection is replaced.

    `prepare_threshold=None` keeps it working behind Supabase's transaction pooler.
    """
    return ConnectionPool(
        database_url,
        min_size=1,
        max_size=max_size,
        timeout=timeout_s,
        open=True,
        check=ConnectionPool.check_connection,
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            "prepare_threshold": None,
            "connect_timeout": max(1, int(timeout_s)),
            "options": f"-c statement_timeout={int(timeout_s * 1000)}",
        },
    )


def _row_to_job(row: dict[str, Any]) -> Job:
    """A `SELECT *` / `RETURNING *` row as a Job: the uuid id comes back as a UUID, Job.id is its text."""
    return Job.model_validate({**row, "id": str(row["id"])})


def _as_uuid(job_id: str) -> str:
    try:
        return str(uuid.UUID(str(job_id)))
    except ValueError as exc:
        raise JobNotFound(job_id) from exc


class PostgresJobStore(TransitionMethods):
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def get(self, job_id: str) -> Job:
        row = self._fetch_one(QUERIES["get_job"], (_as_uuid(job_id),))
        if row is None:
            raise JobNotFound(job_id)
        return _row_to_job(row)

    def list_for_user(self, user_id: str, limit: int = 20, offset: int = 0) -> list[Job]:
        with self._pool.connection() as conn:
            rows = conn.execute(QUERIES["list_jobs_for_user"], (user_id, limit, offset)).fetchall()
        return [_row_to_job(r) for r in rows]

    def history(self, user_id: str, filters: HistoryFilter, limit: int = 20, offset: int = 0) -> list[Job]:
        params = {
            "user": user_id,
            "statuses": filters.status_values(),
            "style": filters.style,
            "product": filters.product,
            "favorite": filters.favorite,
            "limit": limit,
            "offset": offset,
        }
        with self._pool.connection() as conn:
            rows = conn.execute(QUERIES["list_history"], params).fetchall()
        return [_row_to_job(r) for r in rows]

    def queue_position(self, job_id: str) -> int | None:
        row = self._fetch_one(QUERIES["queue_position"], (_as_uuid(job_id),))
        if row is None:
            raise JobNotFound(job_id)
        return int(row["ahead"]) if row["status"] == "pending" else None

    def create(self, new_job: NewJob) -> Job:
        with self._pool.connection() as conn:
            return self._insert(conn, new_job)

    def create_within_quota(self, new_job: NewJob, limits: QuotaLimits, now: datetime | None = None) -> Job:
        """Insert the job unless the user is over a limit (QuotaExceeded).

        The count and the insert share one transaction holding an advisory lock on the
        user, so concurrent requests from any number of app processes cannot overshoot.
        """
        if limits.unlimited:
            return self.create(new_job)
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(QUERIES["lock_user_quota"], (_QUOTA_LOCK_NAMESPACE, new_job.user_id))
            check_quota(self._usage(conn, new_job.user_id, now), limits)
            return self._insert(conn, new_job)

    def quota_usage(self, user_id: str, now: datetime | None = None) -> QuotaUsage:
        with self._pool.connection() as conn:
            return self._usage(conn, user_id, now)

    def claim_stale_pending(self, older_than_s: float, now: datetime | None = None) -> Job | None:
        """Move the oldest pending job created more than `older_than_s` ago to processing.

        `FOR UPDATE SKIP LOCKED` lets several processes claim side by side: each job is
        claimed by exactly one of them.
        """
        row = self._fetch_one(QUERIES["claim_stale_pending"], {"now": now, "age": older_than_s})
        return _row_to_job(row) if row else None

    def fail_stale_processing(self, older_than_s: float, error: str, now: datetime | None = None) -> list[Job]:
        """Fail every processing job not updated (started, progress) for `older_than_s`."""
        params = {"now": now, "age": older_than_s, "error": clipped_error(error)}
        with self._pool.connection() as conn:
            rows = conn.execute(QUERIES["fail_stale_processing"], params).fetchall()
        return [_row_to_job(r) for r in rows]

    def fail_orphaned_in_process(
        self, me: str, grace_s: float, heartbeat_timeout_s: float, error: str, now: datetime | None = None
    ) -> list[Job]:
        params = {"now": now, "grace": grace_s, "timeout": heartbeat_timeout_s, "me": me, "error": clipped_error(error)}
        with self._pool.connection() as conn:
            rows = conn.execute(QUERIES["fail_orphaned_in_process"], params).fetchall()
        return [_row_to_job(r) for r in rows]

    def record_runner(self, job_id: str, runner: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(QUERIES["record_runner"], (runner, _as_uuid(job_id)))

    def record_worker_queue(self, job_id: str, gpu_wait: str, ahead: int | None) -> None:
        with self._pool.connection() as conn:
            conn.execute(QUERIES["record_worker_queue"], (gpu_wait, ahead, _as_uuid(job_id)))

    def record_upload_failure(self, job_id: str, error: str) -> int:
        row = self._fetch_one(QUERIES["record_upload_failure"], (clipped_error(error), _as_uuid(job_id)))
        return int(row["upload_failures"]) if row else 0

    def beat(self, runner: str, now: datetime | None = None) -> None:
        with self._pool.connection() as conn:
            conn.execute(QUERIES["beat"], {"runner": runner, "now": now})
            conn.execute(QUERIES["forget_stopped_processes"], {"now": now, "age": FORGET_PROCESSES_AFTER_S})

    @staticmethod
    def _insert(conn: Any, new_job: NewJob) -> Job:
        row: dict[str, Any] = new_job.model_dump()
        row["parsed_prompt"] = Jsonb(new_job.parsed_prompt)
        query = sql.SQL("INSERT INTO generation_jobs ({}) VALUES ({}) RETURNING *").format(
            sql.SQL(", ").join(map(sql.Identifier, row)),
            sql.SQL(", ").join(sql.Placeholder() * len(row)),
        )
        stored = conn.execute(query, tuple(row.values())).fetchone()
        assert stored is not None  # INSERT ... RETURNING always yields the row
        return _row_to_job(stored)

    @staticmethod
    def _usage(conn: Any, user_id: str, now: datetime | None) -> QuotaUsage:
        row = conn.execute(
            QUERIES["quota_usage"], {"now": now, "user": user_id, "minute": MINUTE, "day": DAY}
        ).fetchone()
        return QuotaUsage(**row)

    def record_callback_attempt(self, job_id: str, state: str | None) -> Job:
        row = self._fetch_one(QUERIES["record_callback_attempt"], (state, _as_uuid(job_id)))
        if row is None:
            raise JobNotFound(job_id)
        return _row_to_job(row)

    def abandon_callback(self, job_id: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(QUERIES["abandon_callback"], (_as_uuid(job_id),))

    def owed_callbacks(self, older_than_s: float, now: datetime | None = None, limit: int = 100) -> list[Job]:
        with self._pool.connection() as conn:
            rows = conn.execute(QUERIES["owed_callbacks"], {"now": now, "age": older_than_s, "limit": limit}).fetchall()
        return [_row_to_job(r) for r in rows]

    def record_progress(self, job_id: str, step: int, total: int) -> None:
        with self._pool.connection() as conn:
            conn.execute(QUERIES["record_progress"], (step, total, _as_uuid(job_id)))

    def record_gpu_usage(self, job_id: str, usage: GpuUsage) -> None:
        with self._pool.connection() as conn:
            conn.execute(QUERIES["record_gpu_usage"],
                         (usage.gpu_seconds, usage.cold_start_seconds, _as_uuid(job_id)))

    def set_favorite(self, job_id: str, on: bool) -> Job:
        row = self._fetch_one(QUERIES["set_favorite"], (on, _as_uuid(job_id)))
        if row is None:
            raise JobNotFound(job_id)
        return _row_to_job(row)

    def delete_finished(self, job_id: str) -> None:
        job_uuid = _as_uuid(job_id)
        if self._fetch_one(QUERIES["delete_finished_job"], (job_uuid, DELETABLE_STATUSES)) is not None:
            return
        current = self._fetch_one(QUERIES["job_status"], (job_uuid,))
        if current is None:
            raise JobNotFound(job_id)
        raise still_running(job_id, current["status"])

    def stats(self, since: datetime) -> JobStats:
        window = (as_utc(since),)
        with self._pool.connection() as conn:
            summary = conn.execute(QUERIES["stats_summary"], window).fetchone()
            per_day = conn.execute(QUERIES["stats_per_day"], window).fetchall()
            by_style = conn.execute(QUERIES["stats_by_style"], window).fetchall()
            by_product = conn.execute(QUERIES["stats_by_product"], window).fetchall()
            failures = conn.execute(QUERIES["stats_recent_failures"], (*window, RECENT_FAILURES_LIMIT)).fetchall()
            gpu = conn.execute(QUERIES["stats_gpu"], window).fetchall()
        assert summary is not None  # an aggregate without GROUP BY always yields one row
        return assemble_job_stats(
            since=since,
            now=summary["now"],
            counts=StatusCounts(
                summary["total"], summary["completed"], summary["failed"], summary["canceled"], summary["in_flight"]
            ),
            times=ProcessingTimes(
                count=summary["timed"],
                total_ms=int(summary["time_sum"] or 0),
                p50_ms=summary["p50"],
                p95_ms=summary["p95"],
            ),
            per_day=[DayCount(r["day"], r["total"], r["completed"], r["failed"]) for r in per_day],
            by_style={r["key"]: r["n"] for r in by_style},
            by_product={r["key"]: r["n"] for r in by_product},
            recent_failures=[
                FailureRow(r["id"], as_utc(r["created_at"]), r["style"], r["product"], r["error"]) for r in failures
            ],
            gpu=gpu_totals((r["status"], r["measured"], r["gpu_seconds"], r["cold_start_seconds"]) for r in gpu),
        )

    def close(self) -> None:
        self._pool.close()

    def _fetch_one(self, query: Any, params: Any) -> dict[str, Any] | None:
        with self._pool.connection() as conn:
            return conn.execute(query, params).fetchone()

    def _apply(self, job_id: str, write: TransitionWrite) -> Job:
        job_uuid = _as_uuid(job_id)
        assignments = [sql.SQL("status = %s")]
        params: list[Any] = [write.target.value]
        for column, value in write.values.items():
            assignments.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
        if write.stamp_started:
            assignments.append(sql.SQL("started_at = now()"))
        if write.stamp_completed:
            assignments.append(sql.SQL("completed_at = now()"))
        if write.measure_processing_time:
            assignments.append(sql.SQL("processing_time_ms = ") + sql.SQL(QUERIES["processing_time_ms"]))
        query = sql.SQL("UPDATE generation_jobs SET {} WHERE id = %s AND status = ANY(%s) RETURNING *").format(
            sql.SQL(", ").join(assignments)
        )
        row = self._fetch_one(query, (*params, job_uuid, list(write.sources)))
        if row is not None:
            return _row_to_job(row)
        current = self._fetch_one(QUERIES["job_status"], (job_uuid,))
        if current is None:
            raise JobNotFound(job_id)
        raise InvalidTransition(job_id, current["status"], write.target.value)
