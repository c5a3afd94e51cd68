"""The official-mockup queue's worker: every app process runs one (mockup_queue_loop, started by
the API's lifespan), and all of them drain the one queue in the jobs database.

A pass (`MockupQueue.run_once`):
1. submits queued tasks while the store may make another create-task call — Printful allows
   10 a minute for established stores, 2 for new ones (PRINTFUL_MOCKUP_TASKS_PER_MINUTE), and
   locks a caller out for 60 s after a 429. The slot is taken in the database
   (`PublishingStore.claim_submission`) before the call, so processes together stay under the
   limit; a 429 records the lockout (Retry-After, else 60 s) for every process and puts the
   task back in line;
2. polls submitted tasks whose next check is due: the first check after a delay (Printful asks
   for no check sooner than 10 s), then at an interval, until completed, failed, or past the
   deadline.
A task claimed by a process that dies is claimed again once its lease runs out, so a restart
loses none. The clock is injectable (epoch seconds) so tests move time instead of waiting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from core.catalog.printful import (
    MockupTask as PrintfulTask,
    PrintfulError,
    PrintfulRateLimited,
    PrintfulUnreachable,
    LOCKOUT_S,
)
from core.periodic import PeriodicLoop
from core.publishing.store import MockupImage, MockupTask, PublishingStore

log = logging.getLogger(__name__)

LEASE_S = 120.0  # a claim outlives any one call to Printful (timeouts are far shorter)
MAX_PER_PASS = 50
LOOP_INTERVAL_S = 1.0
MAX_SUBMIT_ATTEMPTS = 3  # create-task calls Printful did not answer, before the task fails


class MockupApi(Protocol):
    def create_mockup_task(self, product_id: int, variant_ids: Sequence[int], files: Sequence[dict], *,
                           image_format: str = "png", width: int = 1000,
                           within_s: float | None = None) -> PrintfulTask: ...

    def get_mockup_task(self, task_key: str, *, within_s: float | None = None) -> PrintfulTask: ...


@dataclass(frozen=True)
class QueuePolicy:
    store_key: str
    tasks_per_minute: int = 10
    first_check_s: float = 10.0
    check_interval_s: float = 10.0
    deadline_s: float = 300.0
    request_timeout_s: float = 15.0


@dataclass
class QueueReport:
    submitted: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class MockupQueue:
    def __init__(self, store: PublishingStore, printful: MockupApi, policy: QueuePolicy,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.printful = printful
        self.policy = policy
        self.clock = clock

    def run_once(self) -> QueueReport:
        report = QueueReport()
        now = self.clock()
        for _ in range(MAX_PER_PASS):
            task = self.store.claim_submission(self.policy.store_key, self.policy.tasks_per_minute, LEASE_S, now)
            if task is None:
                break
            self._submit(task, now, report)
        for _ in range(MAX_PER_PASS):
            task = self.store.claim_poll(LEASE_S, now)
            if task is None:
                break
            self._poll(task, now, report)
        return report

    # --- one task --------------------------------------------------------------------------
    def _submit(self, task: MockupTask, now: float, report: QueueReport) -> None:
        try:
            # no waiting inside the client (within_s=0): a lockout is the queue's to wait out
            created = self.printful.create_mockup_task(task.product_id, task.variant_ids, task.files, within_s=0)
        except PrintfulRateLimited as exc:
            until = now + (exc.retry_after_s or LOCKOUT_S)
            self.store.record_lockout(task.store_key, until)
            self.store.reschedule(task.id, until, now)
            log.warning("printful mockups locked out job_id=%s store=%s until_s=%.0f", task.job_id, task.store_key,
                        until - now)
            return
        except PrintfulUnreachable as exc:  # it may or may not have made a task: one more costs a slot only
            if task.attempts >= MAX_SUBMIT_ATTEMPTS:
                self._fail(task, f"Printful could not be reached to make the mockups: {exc}", now, report)
            else:
                self.store.reschedule(task.id, now + self.policy.check_interval_s, now)
            return
        except PrintfulError as exc:
            self._fail(task, str(exc), now, report)
            return
        self.store.mark_submitted(task.id, created.task_key, now + self.policy.first_check_s, now)
        report.submitted.append(task.id)
        log.info("printful mockup task submitted job_id=%s task_key=%s", task.job_id, created.task_key)

    def _poll(self, task: MockupTask, now: float, report: QueueReport) -> None:
        assert task.task_key, "a submitted task has Printful's task key"
        try:
            result = self.printful.get_mockup_task(task.task_key, within_s=self.policy.request_timeout_s)
        except PrintfulRateLimited as exc:
            self.store.reschedule(task.id, now + exc.retry_after_s, now)
            return
        except PrintfulUnreachable:
            if not self._past_deadline(task, now, report):
                self.store.reschedule(task.id, now + self.policy.check_interval_s, now)
            return
        except PrintfulError as exc:
            self._fail(task, str(exc), now, report)
            return
        if result.status == "completed":
            images = [MockupImage(list(m.variant_ids), m.mockup_url) for m in result.mockups]
            self.store.complete_mockups(task.id, images, now)
            report.completed.append(task.id)
            log.info("printful mockups completed job_id=%s task_key=%s images=%d", task.job_id, task.task_key,
                     len(images))
        elif result.status == "failed":
            self._fail(task, f"Printful could not make the mockups: {result.error or 'no reason given'}", now, report)
        elif not self._past_deadline(task, now, report):
            self.store.reschedule(task.id, now + self.policy.check_interval_s, now)

    def _past_deadline(self, task: MockupTask, now: float, report: QueueReport) -> bool:
        # the deadline counts from the submission: waiting in line for the store's rate is no fault
        if task.submitted_at is None or now - task.submitted_at <= self.policy.deadline_s:
            return False
        self._fail(task, f"Printful did not finish the mockups within {self.policy.deadline_s:g} s", now, report)
        return True

    def _fail(self, task: MockupTask, error: str, now: float, report: QueueReport) -> None:
        self.store.fail_mockups(task.id, error, now)
        report.failed.append(task.id)
        log.warning("printful mockups failed job_id=%s error=%s", task.job_id, error)


def mockup_queue_loop(queue: MockupQueue, interval_s: float = LOOP_INTERVAL_S) -> PeriodicLoop:
    """Runs `MockupQueue.run_once` now and every `interval_s` until stopped (a daemon thread)."""
    return PeriodicLoop("printful-mockups", queue.run_once, interval_s)
