"""What the publishing store keeps, and the PublishingStore protocol both databases implement.

Times are epoch seconds from the caller's clock (tests move it). Lists travel as JSON text so
SQLite and Postgres rows read the same.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from core.errors import InvalidTransition

MockupStatus = Literal["queued", "submitted", "completed", "failed"]
RATE_WINDOW_S = 60.0  # Printful counts create-task calls per minute
MAX_ERROR_CHARS = 1000


def variant_key(variant_ids: Iterable[int]) -> str:
    """The variant set's identity, whatever order it was given in: a hash of the sorted ids."""
    ids = sorted({int(v) for v in variant_ids})
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class MockupImage:
    variant_ids: list[int]
    url: str


@dataclass(frozen=True)
class NewMockupTask:
    job_id: str
    user_id: str
    store_key: str
    product_id: int
    variant_ids: list[int]
    files: list[dict[str, Any]]  # create-task's GenerationTaskFile objects


@dataclass(frozen=True)
class MockupTask:
    id: str
    job_id: str
    user_id: str
    store_key: str
    product_id: int
    variant_ids: list[int]
    files: list[dict[str, Any]]
    status: MockupStatus
    task_key: str | None
    mockups: list[MockupImage]
    error: str | None
    attempts: int
    not_before: float
    created_at: float
    submitted_at: float | None = None

    @property
    def public_status(self) -> Literal["pending", "completed", "failed"]:
        """What the API answers: queued and submitted are both still pending."""
        return self.status if self.status in ("completed", "failed") else "pending"  # type: ignore[return-value]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> MockupTask:
        mockups = json.loads(row["mockups"]) if row["mockups"] else []
        return cls(
            id=str(row["id"]), job_id=str(row["job_id"]), user_id=row["user_id"], store_key=row["store_key"],
            product_id=int(row["product_id"]), variant_ids=json.loads(row["variant_ids"]), files=json.loads(row["files"]),
            status=row["status"], task_key=row["task_key"],
            mockups=[MockupImage(list(m["variant_ids"]), m["url"]) for m in mockups],
            error=row["error"], attempts=int(row["attempts"]), not_before=float(row["not_before"]),
            created_at=float(row["created_at"]),
            submitted_at=float(row["submitted_at"]) if row["submitted_at"] is not None else None,
        )


@dataclass(frozen=True)
class StoreProduct:
    """A job published to the store with one variant set (status 'publishing' while the call runs)."""

    job_id: str
    variant_key: str
    user_id: str
    status: Literal["publishing", "published"]
    sync_product_id: int | None
    product_url: str | None
    name: str
    variant_ids: list[int] = field(default_factory=list)
    retail_price: str = ""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoreProduct:
        return cls(
            job_id=str(row["job_id"]), variant_key=row["variant_key"], user_id=row["user_id"], status=row["status"],
            sync_product_id=int(row["sync_product_id"]) if row["sync_product_id"] is not None else None,
            product_url=row["product_url"], name=row["name"], variant_ids=json.loads(row["variant_ids"]),
            retail_price=row["retail_price"],
        )


def clipped(error: str) -> str:
    return error if len(error) <= MAX_ERROR_CHARS else error[: MAX_ERROR_CHARS - 1] + "…"


def mockups_json(mockups: Sequence[MockupImage]) -> str:
    return json.dumps([{"variant_ids": m.variant_ids, "url": m.url} for m in mockups])


class PublishingStore(Protocol):
    """The mockup queue, its per-store rate window and the published products, in the jobs database."""

    def enqueue_mockups(self, task: NewMockupTask, now: float) -> MockupTask: ...

    def open_mockups(self, job_id: str, variant_key: str) -> MockupTask | None:
        """The job's newest request for this variant set that has not failed."""
        ...

    def latest_mockups(self, job_id: str) -> MockupTask | None: ...

    def claim_submission(self, store_key: str, per_minute: int, lease_s: float, now: float) -> MockupTask | None:
        """The oldest queued task of the store, claimed for `lease_s`, when the store may make
        one more create-task call now (no lockout, fewer than `per_minute` calls in the last
        60 s): the call is counted in the same transaction, so processes together never exceed
        the limit. None when there is nothing to submit or no call may be made."""
        ...

    def record_lockout(self, store_key: str, until: float) -> None: ...

    def claim_poll(self, lease_s: float, now: float) -> MockupTask | None:
        """A submitted task whose next check is due, claimed for `lease_s` (one process each)."""
        ...

    def mark_submitted(self, task_id: str, task_key: str, next_check: float, now: float) -> MockupTask: ...

    def reschedule(self, task_id: str, next_at: float, now: float) -> None: ...

    def complete_mockups(self, task_id: str, mockups: Sequence[MockupImage], now: float) -> MockupTask: ...

    def fail_mockups(self, task_id: str, error: str, now: float) -> None: ...

    def reserve_product(self, job_id: str, variant_key: str, user_id: str, name: str, variant_ids: Sequence[int],
                        retail_price: str, lease_s: float, now: float) -> tuple[StoreProduct, bool]:
        """(the row, True) when this caller may create the product now (a new reservation, or one
        whose claim ran out); (the existing row, False) when it is published or being published."""
        ...

    def record_product(self, job_id: str, variant_key: str, sync_product_id: int, product_url: str) -> StoreProduct: ...

    def release_product(self, job_id: str, variant_key: str) -> None:
        """Drop a reservation whose publish failed: nothing half-stored is left."""
        ...

    def published_products(self, job_ids: Sequence[str]) -> dict[str, StoreProduct]: ...

    def close(self) -> None: ...


class SqlPublishingStore:
    """What the two dialects' publishing stores share: every statement but the ones that need
    a transaction or a dialect's own parameters (claim_submission, reserve_product,
    published_products). A store supplies its named queries and runs one statement with
    `_one_or_none` (the row it returns, if any) or `_execute`."""

    _queries: dict[str, str]

    def _one_or_none(self, query: str, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _execute(self, query: str, params: dict[str, Any]) -> None:
        raise NotImplementedError

    # --- the mockup queue ------------------------------------------------------------------
    def enqueue_mockups(self, task: NewMockupTask, now: float) -> MockupTask:
        params = {"id": uuid.uuid4().hex, "job_id": task.job_id, "user_id": task.user_id, "store_key": task.store_key,
                  "product_id": task.product_id, "variant_key": variant_key(task.variant_ids),
                  "variant_ids": json.dumps(sorted(task.variant_ids)), "files": json.dumps(task.files), "now": now}
        row = self._one_or_none(self._queries["enqueue_mockups"], params)
        assert row is not None  # INSERT ... RETURNING always yields the row
        return MockupTask.from_row(row)

    def record_lockout(self, store_key: str, until: float) -> None:
        self._execute(self._queries["ensure_rate_window"], {"store_key": store_key})
        self._execute(self._queries["record_lockout"], {"store_key": store_key, "until": until})

    def open_mockups(self, job_id: str, variant_key: str) -> MockupTask | None:
        row = self._one_or_none(self._queries["open_mockups"], {"job_id": job_id, "variant_key": variant_key})
        return MockupTask.from_row(row) if row else None

    def latest_mockups(self, job_id: str) -> MockupTask | None:
        row = self._one_or_none(self._queries["latest_mockups"], {"job_id": job_id})
        return MockupTask.from_row(row) if row else None

    def claim_poll(self, lease_s: float, now: float) -> MockupTask | None:
        row = self._one_or_none(self._queries["claim_due_poll"], {"now": now, "until": now + lease_s})
        return MockupTask.from_row(row) if row else None

    def mark_submitted(self, task_id: str, task_key: str, next_check: float, now: float) -> MockupTask:
        row = self._one_or_none(self._queries["mark_submitted"], {"id": task_id, "task_key": task_key, "next": next_check,
                                                            "now": now})
        if row is None:
            raise InvalidTransition(task_id, "not queued", "submitted")
        return MockupTask.from_row(row)

    def reschedule(self, task_id: str, next_at: float, now: float) -> None:
        self._one_or_none(self._queries["reschedule"], {"id": task_id, "next": next_at, "now": now})

    def complete_mockups(self, task_id: str, mockups: Sequence[MockupImage], now: float) -> MockupTask:
        row = self._one_or_none(self._queries["complete_mockups"], {"id": task_id, "mockups": mockups_json(mockups),
                                                              "now": now})
        if row is None:
            raise InvalidTransition(task_id, "not submitted", "completed")
        return MockupTask.from_row(row)

    def fail_mockups(self, task_id: str, error: str, now: float) -> None:
        self._one_or_none(self._queries["fail_mockups"], {"id": task_id, "error": clipped(error), "now": now})

    def record_product(self, job_id: str, variant_key: str, sync_product_id: int, product_url: str) -> StoreProduct:
        row = self._one_or_none(self._queries["record_product"], {"job_id": job_id, "variant_key": variant_key,
                                                            "sync_product_id": sync_product_id,
                                                            "product_url": product_url})
        if row is None:
            raise InvalidTransition(job_id, "not publishing", "published")
        return StoreProduct.from_row(row)


    # --- store products ---------------------------------------------------------------------
    def release_product(self, job_id: str, variant_key: str) -> None:
        self._execute(self._queries["release_product"], {"job_id": job_id, "variant_key": variant_key})

    @staticmethod
    def _product_params(job_id: str, variant_key: str, user_id: str, name: str, variant_ids: Sequence[int],
                        retail_price: str, lease_s: float, now: float) -> dict[str, Any]:
        return {"job_id": job_id, "variant_key": variant_key, "user_id": user_id, "name": name,
                "variant_ids": json.dumps(sorted(variant_ids)), "retail_price": retail_price,
                "until": now + lease_s, "now": now}
