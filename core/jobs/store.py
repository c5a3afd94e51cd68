"""The JobStore protocol: how the service reads and moves jobs, whatever the database."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.jobs.history import HistoryFilter
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

    def history(self, user_id: str, filters: HistoryFilter, limit: int = 20, offset: int = 0) -> list[Job]:
        """The user's jobs that pass `filters`, newest first."""
        ...

    def set_favorite(self, job_id: str, on: bool) -> Job:
        """Mark or unmark the job as a favourite, whatever its status; JobNotFound when there is none."""
        ...

    def delete_finished(self, job_id: str) -> None:
        """Delete the row of a finished job (completed, failed, canceled); JobNotReady while it
        is pending or processing, JobNotFound when there is none. Its images are the caller's."""
        ...

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
        """Fail the processing jobs not updated for `older_than_s`; return them. A job that
        already carries an error (an upload that kept failing) keeps it as the reason."""
        ...

    def record_runner(self, job_id: str, runner: str) -> None:
        """Record where a processing job runs (`models.REMOTE_RUNNER` or `in_process_runner`)."""
        ...

    def record_worker_queue(self, job_id: str, gpu_wait: str, ahead: int | None) -> None:
        """Store what the worker said of its queue when it took a processing job: `gpu_wait`
        "starting" (a GPU is starting) or "queued", and the jobs ahead (None: not said).
        Ignored once the job reported progress, or when it is no longer processing."""
        ...

    def record_upload_failure(self, job_id: str, error: str) -> int:
        """Count a result the object store refused, keeping `error` as the job's last one;
        the failures so far (0 when the job is no longer processing)."""
        ...

    def beat(self, runner: str, now: datetime | None = None) -> None:
        """This process is alive: its heartbeat row says so (and long-stopped ones are forgotten)."""
        ...

    def fail_orphaned_in_process(
        self, me: str, grace_s: float, heartbeat_timeout_s: float, error: str, now: datetime | None = None
    ) -> list[Job]:
        """Fail the processing jobs of another app process (runner not `me`, not remote) that
        has not beaten for `heartbeat_timeout_s`, untouched for `grace_s`; return them."""
        ...

    def record_callback_attempt(self, job_id: str, state: str | None) -> Job:
        """Count one callback delivery attempt; `state` "delivered" or "abandoned" ends it, None keeps it owed."""
        ...

    def abandon_callback(self, job_id: str) -> None:
        """Owe no callback for this job (one its caller never saw)."""
        ...

    def owed_callbacks(self, older_than_s: float, now: datetime | None = None, limit: int = 100) -> list[Job]:
        """Finished jobs, finished more than `older_than_s` ago, whose callback is still owed."""
        ...

    def stats(self, since: datetime) -> JobStats:
        """Monitoring figures over the jobs created at or after `since` (see `core.ops.stats`)."""
        ...

    def close(self) -> None: ...
