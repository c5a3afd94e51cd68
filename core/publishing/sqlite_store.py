"""The publishing store on SQLite: the jobs database's file, its own connection (WAL, like the
job store). A create-task slot is taken under BEGIN IMMEDIATE, which holds SQLite's write lock
while the window is counted, so processes sharing the file never exceed the store's limit."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.errors import InvalidTransition
from core.jobs.queries import open_sqlite, parse_queries, sql_files
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

QUERIES = parse_queries((sql_files() / "queries" / "printful_sqlite.sql").read_text())


class SqlitePublishingStore:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._conn = open_sqlite(path)

    # --- the mockup queue ------------------------------------------------------------------
    def enqueue_mockups(self, task: NewMockupTask, now: float) -> MockupTask:
        params = {"id": uuid.uuid4().hex, "job_id": task.job_id, "user_id": task.user_id, "store_key": task.store_key,
                  "product_id": task.product_id, "variant_key": variant_key(task.variant_ids),
                  "variant_ids": json.dumps(sorted(task.variant_ids)), "files": json.dumps(task.files), "now": now}
        return MockupTask.from_row(self._one(QUERIES["enqueue_mockups"], params))

    def open_mockups(self, job_id: str, variant_key: str) -> MockupTask | None:
        row = self._one_or_none(QUERIES["open_mockups"], {"job_id": job_id, "variant_key": variant_key})
        return MockupTask.from_row(row) if row else None

    def latest_mockups(self, job_id: str) -> MockupTask | None:
        row = self._one_or_none(QUERIES["latest_mockups"], {"job_id": job_id})
        return MockupTask.from_row(row) if row else None

    def claim_submission(self, store_key: str, per_minute: int, lease_s: float, now: float) -> MockupTask | None:
        params = {"store_key": store_key, "now": now, "until": now + lease_s, "since": now - RATE_WINDOW_S,
                  "before": now - RATE_WINDOW_S}
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._claim_submission(params, per_minute)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT" if row is not None else "ROLLBACK")
        return MockupTask.from_row(row) if row is not None else None

    def _claim_submission(self, params: dict[str, Any], per_minute: int) -> sqlite3.Row | None:
        self._conn.execute(QUERIES["ensure_rate_window"], params)
        window = self._conn.execute(QUERIES["lock_rate_window"], params).fetchone()
        if window["locked_until"] > params["now"]:
            return None
        if self._conn.execute(QUERIES["calls_in_window"], params).fetchone()["calls"] >= per_minute:
            return None
        row = self._conn.execute(QUERIES["claim_queued"], params).fetchone()
        if row is not None:
            self._conn.execute(QUERIES["record_call"], params)
            self._conn.execute(QUERIES["forget_old_calls"], params)
        return row

    def record_lockout(self, store_key: str, until: float) -> None:
        with self._lock:
            self._conn.execute(QUERIES["ensure_rate_window"], {"store_key": store_key})
            self._conn.execute(QUERIES["record_lockout"], {"store_key": store_key, "until": until})

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
        with self._lock:
            reserved = self._conn.execute(QUERIES["reserve_product"], params).fetchone()
            row = reserved or self._conn.execute(QUERIES["get_product"], params).fetchone()
        return StoreProduct.from_row(row), reserved is not None

    def record_product(self, job_id: str, variant_key: str, sync_product_id: int, product_url: str) -> StoreProduct:
        row = self._one_or_none(QUERIES["record_product"], {"job_id": job_id, "variant_key": variant_key,
                                                            "sync_product_id": sync_product_id,
                                                            "product_url": product_url})
        if row is None:
            raise InvalidTransition(job_id, "not publishing", "published")
        return StoreProduct.from_row(row)

    def release_product(self, job_id: str, variant_key: str) -> None:
        with self._lock:
            self._conn.execute(QUERIES["release_product"], {"job_id": job_id, "variant_key": variant_key})

    def published_products(self, job_ids: Sequence[str]) -> dict[str, StoreProduct]:
        if not job_ids:
            return {}
        with self._lock:
            rows = self._conn.execute(QUERIES["published_products"], {"job_ids": json.dumps(list(job_ids))}).fetchall()
        return {str(r["job_id"]): StoreProduct.from_row(r) for r in rows}

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _one(self, query: str, params: dict[str, Any]) -> sqlite3.Row:
        row = self._one_or_none(query, params)
        assert row is not None  # INSERT ... RETURNING always yields the row
        return row

    def _one_or_none(self, query: str, params: dict[str, Any]) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(query, params).fetchone()
