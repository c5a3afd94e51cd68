"""Recovery: no job is lost when an app process restarts or a worker never reports.

One pass (`JobRecovery.run_once`) does three things:
1. writes this process's heartbeat (`JobStore.beat`), the sign that its in-process jobs
   still have a generator to finish them;
2. pending jobs older than a grace period (their process died before handing them over,
   or the hand-over was never attempted) are claimed, each by exactly one process, and
   handed to the generator;
3. processing jobs that can no longer finish are failed with a reason, and any image
   stored for them is removed:
   - jobs an in-process generator (the draft renderer, LocalDiffusersGenerator) ran in
     another app process whose heartbeat stopped (killed, crashed, restarted): nothing will
     ever report them, so they fail as soon as that is known — a heartbeat older than
     `heartbeat_timeout_s` — instead of after the GPU deadline;
   - jobs with no news (no start, no progress, no result) for longer than the deadline.
     This remains the only rule for a remote worker's jobs, and for a stuck in-process job
     of a live process;
4. result callbacks still owed by finished jobs (the process sending them died) are queued
   again (core.jobs.callbacks).

A process knows only its own id (`GenerationService.runner`), so "gone" is judged by the
heartbeat row: the timeout must exceed the interval between passes (app.py sets three
intervals), or a live but slow process would lose its jobs.

`recovery_loop` runs a pass at start-up and then every interval, in a daemon thread that
app.py's lifespan starts and stops.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from core.jobs import Job, JobStore
from core.jobs.service import GenerationService
from core.periodic import PeriodicLoop
from core.logsafe import safe

log = logging.getLogger(__name__)

MAX_CLAIMS_PER_PASS = 200


RESTARTED_MESSAGE = "the app restarted before this job finished; please retry"


@dataclass(frozen=True)
class RecoveryPolicy:
    pending_grace_s: float = 10.0
    processing_deadline_s: float = 600.0
    # an app process whose heartbeat is older than this is gone, with its in-process jobs
    heartbeat_timeout_s: float = 90.0

    @property
    def deadline_message(self) -> str:
        minutes = self.processing_deadline_s / 60
        shown = f"{minutes:g} min" if minutes >= 1 else f"{self.processing_deadline_s:g} s"
        return f"the GPU worker did not report within {shown}"


@dataclass
class RecoveryReport:
    redispatched: list[str] = field(default_factory=list)
    reaped: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    callbacks_requeued: list[str] = field(default_factory=list)


class JobRecovery:
    def __init__(self, service: GenerationService, jobs: JobStore, policy: RecoveryPolicy = RecoveryPolicy()) -> None:
        self._service = service
        self._jobs = jobs
        self._policy = policy

    def run_once(self, now: datetime | None = None) -> RecoveryReport:
        """One recovery pass; `now` replaces the database clock (tests)."""
        report = RecoveryReport()
        me = self._service.runner
        self._jobs.beat(me, now=now)
        for _ in range(MAX_CLAIMS_PER_PASS):
            job = self._jobs.claim_stale_pending(self._policy.pending_grace_s, now=now)
            if job is None:
                break
            log.info("recovering pending job job_id=%s created_at=%s", job.id, job.created_at.isoformat())
            self._service.hand_over(job)
            report.redispatched.append(job.id)
        for job in self._jobs.fail_orphaned_in_process(
            me, self._policy.pending_grace_s, self._policy.heartbeat_timeout_s, RESTARTED_MESSAGE, now=now
        ):
            self._reaped(job)
            report.orphaned.append(job.id)
        for job in self._jobs.fail_stale_processing(
            self._policy.processing_deadline_s, self._policy.deadline_message, now=now
        ):
            self._reaped(job)
            report.reaped.append(job.id)
        report.callbacks_requeued = self._service.redeliver_owed_callbacks(now=now)
        return report

    def _reaped(self, job: Job) -> None:
        log.warning("job reaped job_id=%s error=%s", job.id, safe(job.error))
        self._service.results.discard_image(job)
        self._service.job_finished(job)


def recovery_loop(recovery: JobRecovery, interval_s: float) -> PeriodicLoop:
    """Runs `JobRecovery.run_once` now and every `interval_s` until stopped."""

    def run_once() -> None:
        report = recovery.run_once()
        if report.redispatched or report.reaped or report.orphaned:
            log.info("recovery pass redispatched=%s reaped=%s orphaned=%s",
                     len(report.redispatched), len(report.reaped), len(report.orphaned))

    return PeriodicLoop("job-recovery", run_once, interval_s)
