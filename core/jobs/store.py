"""The JobStore protocol: how the service reads and moves jobs, whatever the database."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.jobs.models import GpuUsage, Job, NewJob
from core.jobs.quotas import QuotaLimits, QuotaUsage
from core.ops.stats import JobStats


class JobStore(Protocol):
    """Persistence of generation jobs.

    Every status change is one conditional UPDATE guarded by the status machine
    (`core.jobs.status`): it raises `InvalidTransition` when the job is not in a state the
    target may be reached from, and `JobNotFound` when there is no such job.
    """

    def create(self, new_job: NewJob) -> Job: ...

    def create_within_quota(self, new_job: NewJob, limits: QuotaLimits, now: datetime | None = None) -> Job:
        """Create the job unless its user is over a limit (QuotaExceeded); race-free across processes."""
        ...

    def quota_usage(self, user_id: str, now: datetime | None = None) -> QuotaUsage: ...

    def get(self, job_id: str) -> Job: ...

    def list_for_user(self, user_id: str, limit: int = 20, offset: int = 0) -> list[Job]: ...

    def queue_position(self, job_id: str) -> int | None:
        """How many pending jobs (anyone's) were created before this one; None unless it is pending."""
        ...

    def mark_processing(self, job_id: str) -> Job: ...

    def mark_completed(
        self, job_id: str, storage_key: str, image_url: str, seed: int | None, usage: GpuUsage | None = None
    ) -> Job: ...

    def mark_failed(self, job_id: str, error: str, usage: GpuUsage | None = None) -> Job: ...

    def mark_canceled(self, job_id: str) -> Job: ...

    def record_progress(self, job_id: str, step: int, total: int) -> None:
        """Store a worker's step progress; ignored unless the job is processing."""
        ...

    def record_gpu_usage(self, job_id: str, usage: GpuUsage) -> None:
        """Store the GPU time reported for a job that is already finished (work a cancel
        stopped); ignored when the job has a figure already (the first report counts)."""
        ...

    def claim_stale_pending(self, older_than_s: float, now: datetime | None = None) -> Job | None:
        """Atomically move the oldest pending job older than `older_than_s` to processing
        and return it; None when there is none. Each job is claimed by one caller only."""
        ...

    def fail_stale_processing(self, older_than_s: float, error: str, now: datetime | None = None) -> list[Job]:
        """Fail the processing jobs not updated for `older_than_s`; return them."""
    def stats(self, since: datetime) -> JobStats:
        """Monitoring figures over the jobs created at or after `since` (see `core.ops.stats`)."""
        ...

    def close(self) -> None: ...
