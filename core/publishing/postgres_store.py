"""The publishing store on Postgres, over the jobs database's pool. A create-task slot is
taken in one transaction that locks the store's rate-window row (FOR UPDATE) while the window
is counted and claims the oldest queued task with FOR UPDATE SKIP LOCKED, so processes together
never exceed the store's limit and each task is submitted by one of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg_pool import ConnectionPool

from core.jobs.queries import parse_queries, sql_files
from core.publishing.store import RATE_WINDOW_S, MockupTask, SqlPublishingStore, StoreProduct

QUERIES = parse_queries((sql_files() / "queries" / "printful_postgres.sql").read_text())


class PostgresPublishingStore(SqlPublishingStore):
    _queries = QUERIES

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    # --- the mockup queue ------------------------------------------------------------------
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

    # --- store products ---------------------------------------------------------------------
    def reserve_product(self, job_id: str, variant_key: str, user_id: str, name: str, variant_ids: Sequence[int],
                        retail_price: str, lease_s: float, now: float) -> tuple[StoreProduct, bool]:
        params = self._product_params(job_id, variant_key, user_id, name, variant_ids, retail_price, lease_s, now)
        with self._pool.connection() as conn:
            reserved = conn.execute(QUERIES["reserve_product"], params).fetchone()
            row = reserved or conn.execute(QUERIES["get_product"], params).fetchone()
        return StoreProduct.from_row(row), reserved is not None

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

    def _execute(self, query: str, params: dict[str, Any]) -> None:
        with self._pool.connection() as conn:
            conn.execute(query, params)
