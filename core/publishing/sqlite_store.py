"""The publishing store on SQLite: the jobs database's file, its own connection (WAL, like the
job store). A create-task slot is taken under BEGIN IMMEDIATE, which holds SQLite's write lock
while the window is counted, so processes sharing the file never exceed the store's limit."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.jobs.queries import open_sqlite, parse_queries, sql_files
from core.publishing.store import RATE_WINDOW_S, MockupTask, SqlPublishingStore, StoreProduct

QUERIES = parse_queries((sql_files() / "queries" / "printful_sqlite.sql").read_text())


class SqlitePublishingStore(SqlPublishingStore):
    _queries = QUERIES

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._conn = open_sqlite(path)

    # --- the mockup queue ------------------------------------------------------------------
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

    # --- store products ---------------------------------------------------------------------
    def reserve_product(self, job_id: str, variant_key: str, user_id: str, name: str, variant_ids: Sequence[int],
                        retail_price: str, lease_s: float, now: float) -> tuple[StoreProduct, bool]:
        params = self._product_params(job_id, variant_key, user_id, name, variant_ids, retail_price, lease_s, now)
        with self._lock:
            reserved = self._conn.execute(QUERIES["reserve_product"], params).fetchone()
            row = reserved or self._conn.execute(QUERIES["get_product"], params).fetchone()
        return StoreProduct.from_row(row), reserved is not None

    def published_products(self, job_ids: Sequence[str]) -> dict[str, StoreProduct]:
        if not job_ids:
            return {}
        with self._lock:
            rows = self._conn.execute(QUERIES["published_products"], {"job_ids": json.dumps(list(job_ids))}).fetchall()
        return {str(r["job_id"]): StoreProduct.from_row(r) for r in rows}

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _one_or_none(self, query: str, params: dict[str, Any]) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(query, params).fetchone()

    def _execute(self, query: str, params: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(query, params)
