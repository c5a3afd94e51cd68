"""Recovery: no job is lost when an app process restarts or a worker never reports.

One pass (`JobRecovery.run_once`) does two things:
1. pending jobs older than a grace period (their process died before handing them over,
   or the hand-over was never attempted) are claimed, each by exactly one process, and
   handed to the generator;
2. processing jobs with no news (no start, no progress, no result) for longer than the
   deadline are failed with a reason, and any image stored for them is removed.

`RecoveryLoop` runs a pass at start-up and then every interval, in a daemon thread that
app.py's lifespan starts and stops.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from core.jobs import Job, JobStore
from core.jobs.service import GenerationService
from core.logsafe import safe
from core.ops import metrics

log = logging.getLogger(__name__)

MAX_CLAIMS_PER_PASS = 200


@dataclass(frozen=True)
class RecoveryPolicy:
    pending_grace_s: float = 10.0
    processing_deadline_s: float = 600.0

    @property
    def deadline_message(self) -> str:
        minutes = self.processing_deadline_s / 60
        shown = f"{minutes:g} min" if minutes >= 1 else f"{self.processing_deadline_s:g} s"
        return f"the GPU worker did not report within {shown}"


@dataclass
class RecoveryReport:
    redispatched: list[str] = field(default_factory=list)
    reaped: list[str] = field(default_factory=list)


class JobRecovery:
    def __init__(self, service: GenerationService, jobs: JobStore, policy: RecoveryPolicy = RecoveryPolicy()) -> None:
        self._service = service
        self._jobs = jobs
        self._policy = policy

    def run_once(self, now: datetime | None = None) -> RecoveryReport:
        """One recovery pass; `now` replaces the database clock (tests)."""
        report = RecoveryReport()
        for _ in range(MAX_CLAIMS_PER_PASS):
            job = self._jobs.claim_stale_pending(self._policy.pending_grace_s, now=now)
            if job is None:
                break
            log.info("recovering pending job job_id=%s created_at=%s", job.id, job.created_at.isoformat())
            self._service.hand_over(job)
            report.redispatched.append(job.id)
        for job in self._jobs.fail_stale_processing(
            self._policy.processing_deadline_s, self._policy.deadline_message, now=now
        ):
            self._reaped(job)
            report.reaped.append(job.id)
        return report

    def _reaped(self, job: Job) -> None:
        log.warning("job reaped job_id=%s error=%s", job.id, safe(job.error))
        metrics.job_finished(job)
        self._service.results.discard_image(job)


class RecoveryLoop:
    """Runs `JobRecovery.run_once` now and every `interval_s` until stopped."""

    def __init__(self, recovery: JobRecovery, interval_s: float) -> None:
        self._recovery = recovery
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-recovery", daemon=True)
        self.passes = 0

    def start(self) -> RecoveryLoop:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self._recovery.run_once()
                if report.redispatched or report.reaped:
                    log.info("recovery pass redispatched=%s reaped=%s", len(report.redispatched), len(report.reaped))
            except Exception:  # the database may be away for a while: try again next interval
                log.exception("recovery pass failed")
            self.passes += 1
            if self._interval_s <= 0:
                return
            self._stop.wait(self._interval_s)
