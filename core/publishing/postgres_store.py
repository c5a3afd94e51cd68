"""The publishing store on Postgres, over the jobs database's pool. A create-task slot is
taken in one transaction that locks the store's rate-window row (FOR UPDATE) while the window
is counted and claims the oldest queued task with FOR UPDATE SKIP LOCKED, so processes together
never exceed the store's limit and each task is submitted by one of them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from psycopg_pool import ConnectionPool

from core.errors import InvalidTransition
from core.jobs.queries import parse_queries, sql_files
from core.publishing.store import (
    RATE_WINDOW_S,
    MockupImage,
    MockupTask,
    NewMockupTask,
    StoreProduct,
    clipped,
    mockups_json,
    variant_key,
)

QUERIES = parse_queries((sql_files() / "queries" / "printful_postgres.sql").read_text())


class PostgresPublishingStore:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    # --- the mockup queue ------------------------------------------------------------------
    def enqueue_mockups(self, task: NewMockupTask, now: float) -> MockupTask:
        params = {"id": uuid.uuid4().hex, "job_id": task.job_id, "user_id": task.user_id, "store_key": task.store_key,
                  "product_id": task.product_id, "variant_key": variant_key(task.variant_ids),
                  "variant_ids": json.dumps(sorted(task.variant_ids)), "files": json.dumps(task.files), "now": now}
        row = self._one_or_none(QUERIES["enqueue_mockups"], params)
        assert row is not None  # INSERT ... RETURNING always yields the row
        return MockupTask.from_row(row)

    def open_mockups(self, job_id: str, variant_key: str) -> MockupTask | None:
        row = self._one_or_none(QUERIES["open_mockups"], {"job_id": job_id, "variant_key": variant_key})
        return MockupTask.from_row(row) if row else None

    def latest_mockups(self, job_id: str) -> MockupTask | None:
        row = self._one_or_none(QUERIES["latest_mockups"], {"job_id": job_id})
        return MockupTask.from_row(row) if row else None

    def claim_submission(self, store_key: str, per_minute: int, lease_s: float, now: float) -> MockupTask | None:
        params = {"store_key": store_key, "now": now, "until": now + lease_s, "since": now - RATE_WINDOW_S,
                  "before": now - RATE_WINDOW_S}
        with self._pool.connection() as conn:
            conn.execute(QUERIES["ensure_rate_window"], params)
            with conn.transaction():
                window = conn.execute(QUERIES["lock_rate_window"], params).fetchone()
                if window["locked_until"] > now:
                    return None
                if conn.execute(QUERIES["calls_in_window"], params).fetchone()["calls"] >= per_minute:
                    return None
                row = conn.execute(QUERIES["claim_queued"], params).fetchone()
                if row is None:
                    return None
                conn.execute(QUERIES["record_call"], params)
                conn.execute(QUERIES["forget_old_calls"], params)
        return MockupTask.from_row(row)

    def record_lockout(self, store_key: str, until: float) -> None:
        with self._pool.connection() as conn:
            conn.execute(QUERIES["ensure_rate_window"], {"store_key": store_key})
            conn.execute(QUERIES["record_lockout"], {"store_key": store_key, "until": until})

    def claim_poll(self, lease_s: float, now: float) -> MockupTask | None:
        row = self._one_or_none(QUERIES["claim_due_poll"], {"now": now, "until": now + lease_s})
        return MockupTask.from_row(row) if row else None

    def mark_submitted(self, task_id: str, task_key: str, next_check: float, now: float) -> MockupTask:
        row = self._one_or_none(QUERIES["mark_submitted"], {"id": task_id, "task_key": task_key, "next": next_check,
                                                            "now": now})
        if row is None:
            raise InvalidTransition(task_id, "not queued", "submitted")
        return MockupTask.from_row(row)

    def reschedule(self, task_id: str, next_at: float, now: float) -> None:
        self._one_or_none(QUERIES["reschedule"], {"id": task_id, "next": next_at, "now": now})

    def complete_mockups(self, task_id: str, mockups: Sequence[MockupImage], now: float) -> MockupTask:
        row = self._one_or_none(QUERIES["complete_mockups"], {"id": task_id, "mockups": mockups_json(mockups),
                                                              "now": now})
        if row is None:
            raise InvalidTransition(task_id, "not submitted", "completed")
        return MockupTask.from_row(row)

    def fail_mockups(self, task_id: str, error: str, now: float) -> None:
        self._one_or_none(QUERIES["fail_mockups"], {"id": task_id, "error": clipped(error), "now": now})

    # --- store products ---------------------------------------------------------------------
    def reserve_product(self, job_id: str, variant_key: str, user_id: str, name: str, variant_ids: Sequence[int],
                        retail_price: str, lease_s: float, now: float) -> tuple[StoreProduct, bool]:
        params = {"job_id": job_id, "variant_key": variant_key, "user_id": user_id, "name": name,
                  "variant_ids": json.dumps(sorted(variant_ids)), "retail_price": retail_price,
                  "until": now + lease_s, "now": now}
        with self._pool.connection() as conn:
            reserved = conn.execute(QUERIES["reserve_product"], params).fetchone()
            row = reserved or conn.execute(QUERIES["get_product"], params).fetchone()
        return StoreProduct.from_row(row), reserved is not None

    def record_product(self, job_id: str, variant_key: str, sync_product_id: int, product_url: str) -> StoreProduct:
        row = self._one_or_none(QUERIES["record_product"], {"job_id": job_id, "variant_key": variant_key,
                                                            "sync_product_id": sync_product_id,
                                                            "product_url": product_url})
        if row is None:
            raise InvalidTransition(job_id, "not publishing", "published")
        return StoreProduct.from_row(row)

    def release_product(self, job_id: str, variant_key: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(QUERIES["release_product"], {"job_id": job_id, "variant_key": variant_key})

    def published_products(self, job_ids: Sequence[str]) -> dict[str, StoreProduct]:
        if not job_ids:
            return {}
        with self._pool.connection() as conn:
            rows = conn.execute(QUERIES["published_products"], {"job_ids": list(job_ids)}).fetchall()
        return {str(r["job_id"]): StoreProduct.from_row(r) for r in rows}

    def close(self) -> None:
        """The pool belongs to the job store, which closes it."""

    def _one_or_none(self, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
        with self._pool.connection() as conn:
            return conn.execute(query, params).fetchone()
