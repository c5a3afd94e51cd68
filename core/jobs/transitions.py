"""What each status change writes, shared by the SQL stores.

A store turns a `TransitionWrite` into one conditional UPDATE:
`SET status = target, <columns> WHERE id = ? AND status IN (sources_of(target))`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from core.jobs.models import GpuUsage, Job
from core.jobs.status import JobStatus, sources_of

MAX_ERROR_CHARS = 2000


def clipped_error(error: str) -> str:
    """The error text as stored: long worker tracebacks are cut, not refused."""
    return error[:MAX_ERROR_CHARS]


@dataclass(frozen=True)
class TransitionWrite:
    target: JobStatus
    # columns set to a parameter value
    values: dict[str, Any] = field(default_factory=dict)
    stamp_started: bool = False
    stamp_completed: bool = False
    # processing_time_ms = now - started_at, computed by the database
    measure_processing_time: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(s.value for s in sources_of(self.target))


def processing_write() -> TransitionWrite:
    return TransitionWrite(JobStatus.PROCESSING, stamp_started=True)


def completed_write(storage_key: str, image_url: str, seed: int | None, usage: GpuUsage | None = None) -> TransitionWrite:
    values: dict[str, Any] = {"storage_key": storage_key, "image_url": image_url, "error": None}
    if seed is not None:
        values["seed"] = seed
    if usage is not None:
        values.update(usage.columns())
    return TransitionWrite(
        JobStatus.COMPLETED, values, stamp_completed=True, measure_processing_time=True
    )


def failed_write(error: str, usage: GpuUsage | None = None) -> TransitionWrite:
    values: dict[str, Any] = {"error": clipped_error(error)}
    if usage is not None:
        values.update(usage.columns())
    return TransitionWrite(JobStatus.FAILED, values, stamp_completed=True, measure_processing_time=True)


def canceled_write() -> TransitionWrite:
    return TransitionWrite(JobStatus.CANCELED, stamp_completed=True)


class TransitionMethods(ABC):
    """The JobStore status-change methods, each one `TransitionWrite` applied by the store."""

    @abstractmethod
    def _apply(self, job_id: str, write: TransitionWrite) -> Job:
        """Apply `write` as one conditional UPDATE; JobNotFound or InvalidTransition otherwise."""

    def mark_processing(self, job_id: str) -> Job:
        return self._apply(job_id, processing_write())

    def mark_completed(
        self, job_id: str, storage_key: str, image_url: str, seed: int | None, usage: GpuUsage | None = None
    ) -> Job:
        return self._apply(job_id, completed_write(storage_key, image_url, seed, usage))

    def mark_failed(self, job_id: str, error: str, usage: GpuUsage | None = None) -> Job:
        return self._apply(job_id, failed_write(error, usage))

    def mark_canceled(self, job_id: str) -> Job:
        return self._apply(job_id, canceled_write())
