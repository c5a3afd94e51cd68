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
from core.jobs.models import Job, NewJob
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
)

# advisory lock namespace (int4) for the per-user quota check; the key is hashtext(user_id)
_QUOTA_LOCK_NAMESPACE = 7461
# the caller's clock when given (tests), else the database's: one clock for every process
_NOW = "COALESCE(%(now)s::timestamptz, now())"

# now - started_at, for the job being finished by the same statement
_PROCESSING_TIME_MS = "GREATEST(0, ROUND(EXTRACT(EPOCH FROM (now() - started_at)) * 1000))::int"

_COLUMNS = (
    "id::text AS id, user_id, prompt, parsed_prompt, style, product, status, width, height, seed, "
    "model, storage_key, image_url, error, processing_time_ms, progress_step, progress_total, "
    "created_at, started_at, completed_at, updated_at"
)


_COMPLETED_TIMED = "status = 'completed' AND processing_time_ms IS NOT NULL"

_PG_SUMMARY = f"""
SELECT now() AS now,
       count(*) AS total,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'canceled') AS canceled,
       count(*) FILTER (WHERE status IN ('pending', 'processing')) AS in_flight,
       count(*) FILTER (WHERE {_COMPLETED_TIMED}) AS timed,
       sum(processing_time_ms) FILTER (WHERE {_COMPLETED_TIMED}) AS time_sum,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY processing_time_ms) FILTER (WHERE {_COMPLETED_TIMED}) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY processing_time_ms) FILTER (WHERE {_COMPLETED_TIMED}) AS p95
FROM generation_jobs WHERE created_at >= %s
"""

_PG_PER_DAY = """
SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS total,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed
FROM generation_jobs WHERE created_at >= %s GROUP BY day ORDER BY day
"""


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


def _as_uuid(job_id: str) -> str:
    try:
        return str(uuid.UUID(str(job_id)))
    except ValueError as exc:
        raise JobNotFound(job_id) from exc


class PostgresJobStore(TransitionMethods):
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def get(self, job_id: str) -> Job:
        row = self._fetch_one(f"SELECT {_COLUMNS} FROM generation_jobs WHERE id = %s", (_as_uuid(job_id),))
        if row is None:
            raise JobNotFound(job_id)
        return Job.model_validate(row)

    def list_for_user(self, user_id: str, limit: int = 20, offset: int = 0) -> list[Job]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM generation_jobs WHERE user_id = %s "
                "ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
                (user_id, limit, offset),
            ).fetchall()
        return [Job.model_validate(r) for r in rows]

    def queue_position(self, job_id: str) -> int | None:
        row = self._fetch_one(
            "SELECT me.status, (SELECT count(*) FROM generation_jobs other "
            "WHERE other.status = 'pending' AND (other.created_at, other.id) < (me.created_at, me.id)) AS ahead "
            "FROM generation_jobs me WHERE me.id = %s",
            (_as_uuid(job_id),),
        )
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
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_QUOTA_LOCK_NAMESPACE, new_job.user_id)
            )
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
        query = (
            "UPDATE generation_jobs SET status = 'processing', started_at = now() "
            "WHERE status = 'pending' AND id = ("
            "  SELECT id FROM generation_jobs WHERE status = 'pending' "
            f"  AND created_at < {_NOW} - make_interval(secs => %(age)s) "
            "  ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1"
            f") RETURNING {_COLUMNS}"
        )
        row = self._fetch_one(query, {"now": now, "age": older_than_s})
        return Job.model_validate(row) if row else None

    def fail_stale_processing(self, older_than_s: float, error: str, now: datetime | None = None) -> list[Job]:
        """Fail every processing job not updated (started, progress) for `older_than_s`."""
        query = (
            "UPDATE generation_jobs SET status = 'failed', error = %(error)s, completed_at = now(), "
            f"processing_time_ms = {_PROCESSING_TIME_MS} "
            f"WHERE status = 'processing' AND updated_at < {_NOW} - make_interval(secs => %(age)s) "
            f"RETURNING {_COLUMNS}"
        )
        with self._pool.connection() as conn:
            rows = conn.execute(query, {"now": now, "age": older_than_s, "error": clipped_error(error)}).fetchall()
        return [Job.model_validate(r) for r in rows]

    @staticmethod
    def _insert(conn: Any, new_job: NewJob) -> Job:
        row: dict[str, Any] = new_job.model_dump()
        row["parsed_prompt"] = Jsonb(new_job.parsed_prompt)
        query = sql.SQL("INSERT INTO generation_jobs ({}) VALUES ({}) RETURNING " + _COLUMNS).format(
            sql.SQL(", ").join(map(sql.Identifier, row)),
            sql.SQL(", ").join(sql.Placeholder() * len(row)),
        )
        stored = conn.execute(query, tuple(row.values())).fetchone()
        assert stored is not None  # INSERT ... RETURNING always yields the row
        return Job.model_validate(stored)

    @staticmethod
    def _usage(conn: Any, user_id: str, now: datetime | None) -> QuotaUsage:
        row = conn.execute(
            f"SELECT {_NOW} AS now, "
            f"COUNT(*) FILTER (WHERE created_at > {_NOW} - %(minute)s) AS last_minute, "
            "COUNT(*) AS last_day, "
            f"MIN(created_at) FILTER (WHERE created_at > {_NOW} - %(minute)s) AS oldest_in_minute, "
            "MIN(created_at) AS oldest_in_day, "
            "(SELECT COUNT(*) FROM generation_jobs WHERE user_id = %(user)s "
            " AND status IN ('pending', 'processing')) AS in_flight "
            f"FROM generation_jobs WHERE user_id = %(user)s AND created_at > {_NOW} - %(day)s",
            {"now": now, "user": user_id, "minute": MINUTE, "day": DAY},
        ).fetchone()
        return QuotaUsage(**row)

    def record_progress(self, job_id: str, step: int, total: int) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE generation_jobs SET progress_step = %s, progress_total = %s "
                "WHERE id = %s AND status = 'processing'",
                (step, total, _as_uuid(job_id)),
            )

    def stats(self, since: datetime) -> JobStats:
        window = (as_utc(since),)
        with self._pool.connection() as conn:
            summary = conn.execute(_PG_SUMMARY, window).fetchone()
            per_day = conn.execute(_PG_PER_DAY, window).fetchall()
            by_style = conn.execute(
                "SELECT style AS key, count(*) AS n FROM generation_jobs WHERE created_at >= %s GROUP BY style", window
            ).fetchall()
            by_product = conn.execute(
                "SELECT product AS key, count(*) AS n FROM generation_jobs WHERE created_at >= %s GROUP BY product",
                window,
            ).fetchall()
            failures = conn.execute(
                "SELECT id::text AS id, created_at, style, product, error FROM generation_jobs "
                "WHERE status = 'failed' AND created_at >= %s ORDER BY created_at DESC, id DESC LIMIT %s",
                (*window, RECENT_FAILURES_LIMIT),
            ).fetchall()
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
            assignments.append(sql.SQL(f"processing_time_ms = {_PROCESSING_TIME_MS}"))
        query = sql.SQL("UPDATE generation_jobs SET {} WHERE id = %s AND status = ANY(%s) RETURNING " + _COLUMNS).format(
            sql.SQL(", ").join(assignments)
        )
        row = self._fetch_one(query, (*params, job_uuid, list(write.sources)))
        if row is not None:
            return Job.model_validate(row)
        current = self._fetch_one("SELECT status FROM generation_jobs WHERE id = %s", (job_uuid,))
        if current is None:
            raise JobNotFound(job_id)
        raise InvalidTransition(job_id, current["status"], write.target.value)
