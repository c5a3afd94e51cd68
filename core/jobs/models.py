"""The job record as the rest of the app sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from core.jobs.status import JobStatus


# Where a dispatched job runs (`Job.runner`): a GPU worker that reports through the webhook, or
# a generator inside one app process, named by that process's id (`in_process_runner`).
REMOTE_RUNNER = "remote"


def in_process_runner(process_id: str) -> str:
    return f"process:{process_id}"


class NewJob(BaseModel):
    """What the service knows about a job before it is stored."""

    user_id: str
    prompt: str
    parsed_prompt: dict[str, Any] = Field(default_factory=dict)
    style: str
    product: str
    width: int
    height: int
    seed: int | None = None
    model: str | None = None
    # where the terminal status is POSTed (core.jobs.callbacks); None: no callback
    callback_url: str | None = None


class Job(NewJob):
    id: str
    status: JobStatus
    storage_key: str | None = None
    image_url: str | None = None
    error: str | None = None
    processing_time_ms: int | None = None
    progress_step: int | None = None
    progress_total: int | None = None
    gpu_seconds: float | None = None
    cold_start_seconds: float | None = None
    favorite: bool = False  # the owner's mark; set in any status
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    updated_at: datetime
    callback_attempts: int = 0
    callback_state: str | None = None  # None while owed (or no callback), "delivered", "abandoned"
    runner: str | None = None  # REMOTE_RUNNER or in_process_runner(...); None until dispatched
    upload_failures: int = 0  # results the object store refused
    # what the GPU worker said of its queue when it took the job (until its first progress):
    # "starting" (a GPU is starting) or "queued", and the jobs it runs first; None: not said
    gpu_wait: str | None = None
    queue_ahead: int | None = None

    @property
    def runs_in_process(self) -> bool:
        return self.runner is not None and self.runner != REMOTE_RUNNER


@dataclass(frozen=True)
class GpuUsage:
    """The GPU time a worker reports for one job: generation, and the start-up charged to it."""

    gpu_seconds: float | None = None
    cold_start_seconds: float | None = None

    @property
    def reported(self) -> bool:
        return self.gpu_seconds is not None or self.cold_start_seconds is not None

    def columns(self) -> dict[str, float]:
        """The job columns this usage sets (a figure not reported leaves its column alone)."""
        values = {"gpu_seconds": self.gpu_seconds, "cold_start_seconds": self.cold_start_seconds}
        return {name: value for name, value in values.items() if value is not None}
