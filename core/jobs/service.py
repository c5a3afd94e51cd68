"""GenerationService: the one path from a prompt to a stored image.

It depends on protocols only (JobStore, ObjectStore, PromptParser, Generator), so tests
run it on real local backends and app.py picks the production ones from settings.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from core.catalog import Catalog
from core.catalog.policy import PromptPolicy, load_policy
from core.errors import (
    GeneratorUnavailable,
    InvalidRequest,
    InvalidTransition,
    JobNotFound,
    QuotaExceeded,
    StorageError,
)
from core.generators.base import GenerationOutcome, GenerationRequest, Generator
from core.jobs import HistoryFilter, Job, JobStatus, JobStore, NewJob
from core.jobs.history import still_running
from core.jobs.models import REMOTE_RUNNER, in_process_runner
from core.jobs.limits import (
    DEFAULT_MAX_PROMPT_CHARS,
    MAX_BATCH,
    MAX_HISTORY_LIMIT,
    MAX_HISTORY_OFFSET,
    MAX_SEED,
)
from core.jobs.briefs import BriefWriter, GenerateCommand
from core.jobs.callbacks import CallbackDispatcher
from core.jobs.files import JobFiles
from core.jobs.quotas import QuotaLimits, QuotaUsage, check_batch_quota
from core.jobs.results import APPLIED, DirectUploads, OutcomeApplier
from core.ops import metrics
from core.parsing import ParsedPrompt, PromptParser
from core.printing.processors import LocalPrintProcessor, PrintProcessor
from core.storage import ObjectStore, image_key
from core.logsafe import safe

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ServiceLimits:
    max_prompt_chars: int = DEFAULT_MAX_PROMPT_CHARS
    steps: int = 50  # the app's default when a brief asks for none


class GenerationService:
    def __init__(
        self,
        jobs: JobStore,
        objects: ObjectStore,
        parser: PromptParser,
        generator: Generator,
        catalog: Catalog,
        webhook_url: str,
        limits: ServiceLimits = ServiceLimits(),
        quotas: QuotaLimits = QuotaLimits(),
        policy: PromptPolicy | None = None,
        callbacks: CallbackDispatcher | None = None,
        uploads: DirectUploads = DirectUploads(),
        printing: PrintProcessor | None = None,
        png_metadata: bool = True,
        model_revision: str | None = None,
    ) -> None:
        self.jobs = jobs
        self.objects = objects
        self.parser = parser
        self.generator = generator
        self.catalog = catalog
        self._webhook_url = webhook_url
        self._limits = limits
        self._quotas = quotas
        self.policy = policy if policy is not None else load_policy()
        self.briefs = BriefWriter(catalog, parser, self.policy, limits.max_prompt_chars)
        # This process's runner name: a job handed to an in-process generator records it, so
        # recovery can tell the jobs of a process that is gone (core.jobs.recovery).
        self.runner = in_process_runner(uuid.uuid4().hex[:16])
        self.results = OutcomeApplier(jobs, objects, uploads)
        self.callbacks = callbacks
        # who cuts out and upscales print files: this process, or the GPU worker (core.printing)
        self.printing = printing or LocalPrintProcessor()
        # a completed job's design, print file, SVG and mockup (core.jobs.files)
        self.files = JobFiles(self.owned_job, objects, catalog, self.printing, png_metadata=png_metadata,
                              model_revision=model_revision, default_steps=limits.steps)

    # --- briefs (core.jobs.briefs) -------------------------------------------------------
    def parse(self, prompt: str, style: str, product: str) -> ParsedPrompt:
        """The brief for an idea (BriefWriter.parse): the policy is checked before the parser runs."""
        return self.briefs.parse(prompt, style, product)

    def brief_for(self, command: GenerateCommand) -> ParsedPrompt:
        """The brief a command generates from: parsed, then the caller's edits applied (BriefWriter)."""
        return self.briefs.brief_for(command)

    # --- submitting --------------------------------------------------------------------
    def create_job(self, user_id: str, command: GenerateCommand) -> Job:
        """Validate, parse and store a pending job. Dispatch with `dispatch`.

        Raises InvalidRequest for bad input and QuotaExceeded when the user is over a limit.
        """
        brief = self.brief_for(command)
        callback_url = self._checked_callback_url(command.callback_url)
        seed = command.seed if command.seed is not None else secrets.randbelow(MAX_SEED)
        return self._store_job(user_id, self.briefs.clean_idea(command.prompt), brief, seed, callback_url)

    def _checked_callback_url(self, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        if self.callbacks is None:
            raise InvalidRequest("callback_url is not available: this app sends no callbacks")
        return self.callbacks.check_url(url)

    def _store_job(
        self, user_id: str, prompt: str, brief: ParsedPrompt, seed: int, callback_url: str | None = None
    ) -> Job:
        if not 0 <= seed <= MAX_SEED:
            raise InvalidRequest(f"seed must be between 0 and {MAX_SEED}")
        job = self.jobs.create_within_quota(
            NewJob(
                user_id=user_id,
                prompt=prompt,
                parsed_prompt=brief.model_dump(),
                style=brief.style,
                product=brief.product,
                width=brief.width,
                height=brief.height,
                seed=seed,
                model=self.generator.model_name,
                callback_url=callback_url,
            ),
            self._quotas,
        )
        log.info("job created job_id=%s user_id=%s style=%s product=%s", job.id, safe(user_id), job.style, job.product)
        metrics.job_created(job)
        return job

    def dispatch(self, job_id: str) -> Job:
        """Claim a pending job (pending -> processing) and hand it to the generator.

        The job is marked processing first, so a fast worker's webhook always finds it so.
        When another process (the recovery loop) claimed it first, or it was canceled,
        nothing is sent and the job is returned as it is: each job is handed over once.
        """
        try:
            job = self.jobs.mark_processing(job_id)
        except InvalidTransition as exc:
            log.info("dispatch skipped job_id=%s status=%s", safe(job_id), exc.current)
            return self.jobs.get(job_id)
        return self.hand_over(job)

    def dispatch_later(self, job_id: str) -> None:
        """`dispatch` as a background task after the request was answered (202): a fault there
        (a database connection killed mid-query, say) is logged, not raised, since nobody waits
        for it and a raised error would make the server drop the client's keep-alive connection.
        A job still pending is claimed by the recovery pass after the pending grace; one whose
        claim went through though its answer was lost (processing, no runner: only this process
        claimed it) is handed over here, since the recovery pass claims pending jobs only."""
        try:
            self.dispatch(job_id)
        except Exception as exc:  # noqa: BLE001 (the recovery pass is the retry)
            log.warning("dispatch deferred to recovery job_id=%s error=%s: %s", safe(job_id), type(exc).__name__,
                        safe(str(exc)))
            try:
                job = self.jobs.get(job_id)
                if job.status is JobStatus.PROCESSING and job.runner is None:
                    self.hand_over(job)
            except Exception as again:  # noqa: BLE001 (the processing deadline ends it)
                log.warning("claimed job not handed over job_id=%s error=%s", safe(job_id), type(again).__name__)

    def hand_over(self, job: Job) -> Job:
        """Send a job this process has claimed (status processing) to the generator, recording
        where it runs (this process, or a remote worker).

        If the generator cannot take it, the job ends failed with the reason.
        """
        brief = ParsedPrompt.model_validate(job.parsed_prompt)
        request = GenerationRequest(
            job_id=job.id,
            user_id=job.user_id,
            prompt=brief.prompt,
            negative_prompt=brief.negative_prompt,
            width=job.width,
            height=job.height,
            seed=job.seed if job.seed is not None else 0,
            steps=brief.steps or self._limits.steps,
            webhook_url=self._webhook_url,
            brief=brief,
            upload=self.results.upload_target(job),
        )
        runner = self.runner if self.generator.runs_in_process else REMOTE_RUNNER
        self.jobs.record_runner(job.id, runner)
        try:
            queue = self.generator.submit(request, self)
        except GeneratorUnavailable as exc:
            log.warning("dispatch failed job_id=%s error=%s", job.id, safe(exc))
            return self._fail_quietly(job.id, str(exc))
        metrics.job_handed_over(job)
        if queue is not None and queue.gpu_wait is not None:
            # news for the studio until the GPU takes the job; the job runs whether or not it is kept
            try:
                self.jobs.record_worker_queue(job.id, queue.gpu_wait, queue.ahead)
            except Exception as exc:  # noqa: BLE001
                log.warning("worker queue unrecorded job_id=%s error=%s", job.id, type(exc).__name__)
        return job

    def submit(self, user_id: str, command: GenerateCommand) -> Job:
        """create_job + dispatch, for callers that can wait for the hand-over (the UI)."""
        return self.dispatch(self.create_job(user_id, command).id)

    def submit_batch(self, user_id: str, command: GenerateCommand, count: int) -> list[Job]:
        """`count` (1 to MAX_BATCH) jobs from one brief (`create_batch`), dispatched in order."""
        return [self.dispatch(job.id) for job in self.create_batch(user_id, command, count)]

    def create_batch(self, user_id: str, command: GenerateCommand, count: int) -> list[Job]:
        """Store `count` (1 to MAX_BATCH) pending jobs from one brief. Dispatch each with `dispatch`.

        With a seed they get consecutive seeds starting at it; without, each a random one.
        A batch starts whole or not at all: every job is stored before the first is
        dispatched, and one the user's quota cannot take whole raises QuotaExceeded with
        nothing started (jobs stored before another process took the last slot are canceled).
        """
        if not 1 <= count <= MAX_BATCH:
            raise InvalidRequest(f"number of images must be between 1 and {MAX_BATCH}")
        brief = self.brief_for(command)
        callback_url = self._checked_callback_url(command.callback_url)
        if command.seed is not None and not 0 <= command.seed <= MAX_SEED:
            raise InvalidRequest(f"seed must be between 0 and {MAX_SEED}")
        if not self._quotas.unlimited:
            check_batch_quota(self.jobs.quota_usage(user_id), self._quotas, count)
        seeds = [
            (command.seed + i) % (MAX_SEED + 1) if command.seed is not None else secrets.randbelow(MAX_SEED)
            for i in range(count)
        ]
        idea = self.briefs.clean_idea(command.prompt)
        jobs: list[Job] = []
        try:
            for seed in seeds:
                jobs.append(self._store_job(user_id, idea, brief, seed, callback_url))
        except QuotaExceeded:
            for job in jobs:
                self._cancel_quietly(job.id)
                self.jobs.abandon_callback(job.id)  # its caller never saw it
            raise
        return jobs

    def rerun(self, user_id: str, job_id: str, keep_seed: bool) -> Job:
        """A new job from one of the user's jobs' stored brief: a retry (`keep_seed`) or a variation."""
        return self.dispatch(self.create_rerun(user_id, job_id, keep_seed)[0].id)

    def create_rerun(
        self, user_id: str, job_id: str, keep_seed: bool, count: int = 1, callback_url: str | None = None
    ) -> list[Job]:
        """Store `count` new pending jobs from one of the user's jobs' stored brief: a retry
        (`keep_seed`: its seed, so one job) or variations (each a new seed). Dispatch each with `dispatch`."""
        if not 1 <= count <= MAX_BATCH:
            raise InvalidRequest(f"number of images must be between 1 and {MAX_BATCH}")
        if keep_seed and count != 1:
            raise InvalidRequest("a retry repeats one job with its seed: ask for 1 image, or for variations")
        job = self.owned_job(user_id, job_id)
        brief = ParsedPrompt.model_validate(job.parsed_prompt)
        self.briefs.check_policy(brief)  # a job stored before a policy change runs under today's
        callback_url = self._checked_callback_url(callback_url)
        if not self._quotas.unlimited:
            check_batch_quota(self.jobs.quota_usage(user_id), self._quotas, count)
        seeds = [
            job.seed if keep_seed and job.seed is not None else secrets.randbelow(MAX_SEED) for _ in range(count)
        ]
        jobs: list[Job] = []
        try:
            for seed in seeds:
                jobs.append(self._store_job(user_id, job.prompt, brief, seed, callback_url))
        except QuotaExceeded:
            for stored in jobs:
                self._cancel_quietly(stored.id)
                self.jobs.abandon_callback(stored.id)
            raise
        return jobs

    def _cancel_quietly(self, job_id: str) -> None:
        try:
            metrics.job_finished(self.jobs.mark_canceled(job_id))
        except InvalidTransition:
            pass

    def _fail_quietly(self, job_id: str, error: str) -> Job:
        try:
            return self.job_finished(self.jobs.mark_failed(job_id, error))
        except InvalidTransition:
            return self.jobs.get(job_id)

    # --- callbacks ---------------------------------------------------------------------
    def job_finished(self, job: Job) -> Job:
        """A job just reached a terminal status: count it (core.ops.metrics) and queue the callback
        it owes (if any); returns the job. Every door's terminal transition passes here once."""
        metrics.job_finished(job)
        if self.callbacks is not None and job.callback_url and job.status.is_terminal:
            self.callbacks.notify(job)
        return job

    def redeliver_owed_callbacks(self, now: datetime | None = None) -> list[str]:
        """Queue the callbacks still owed for jobs that finished longer ago than one delivery may
        take (another process died while sending them); the ids queued."""
        if self.callbacks is None:
            return []
        owed = self.jobs.owed_callbacks(self.callbacks.retry_span_s, now=now)
        return [job.id for job in owed if self.callbacks.notify(job)]

    # --- results -----------------------------------------------------------------------
    def apply_outcome(self, outcome: GenerationOutcome) -> str:
        """Apply a generator's outcome to its job (core.jobs.results): `APPLIED` or `ALREADY_APPLIED`."""
        try:
            result = self.results.apply_outcome(outcome)
        except (InvalidRequest, StorageError):
            # a refused image or an upload that kept failing may have ended the job meanwhile
            job = self.jobs.get(outcome.job_id)
            if job.status.is_terminal:
                self.job_finished(job)
            raise
        if result == APPLIED and outcome.status != JobStatus.PROCESSING.value:
            self.job_finished(self.jobs.get(outcome.job_id))
        return result

    # --- reading and canceling: every read and change of a job is the caller's own -------
    def owned_job(self, user_id: str, job_id: str) -> Job:
        """The job if it belongs to `user_id`; JobNotFound otherwise (another's job does not exist)."""
        job = self.jobs.get(job_id)
        if job.user_id != user_id:
            raise JobNotFound(job_id)
        return job

    def queue_position(self, user_id: str, job_id: str) -> int | None:
        """Pending jobs ahead of the caller's job; None once it left the queue."""
        return self.jobs.queue_position(self.owned_job(user_id, job_id).id)

    def quota_usage(self, user_id: str) -> QuotaUsage:
        return self.jobs.quota_usage(user_id)

    @property
    def quotas(self) -> QuotaLimits:
        return self._quotas

    def history(self, user_id: str, filters: HistoryFilter | None = None, limit: int = 20, offset: int = 0) -> list[Job]:
        """The caller's jobs that pass `filters` (all of them without), newest first;
        InvalidRequest for a page out of range or a style or product the catalog does not know."""
        if not 1 <= limit <= MAX_HISTORY_LIMIT:
            raise InvalidRequest(f"limit must be between 1 and {MAX_HISTORY_LIMIT}")
        if not 0 <= offset <= MAX_HISTORY_OFFSET:
            raise InvalidRequest(f"offset must be between 0 and {MAX_HISTORY_OFFSET}")
        filters = filters or HistoryFilter()
        if filters.style is not None:
            self.catalog.style(filters.style)
        if filters.product is not None:
            self.catalog.product(filters.product)
        return self.jobs.history(user_id, filters, limit=limit, offset=offset)

    def set_favorite(self, user_id: str, job_id: str, on: bool) -> Job:
        """Mark (`on`) or unmark the caller's job as a favourite, in any status."""
        return self.jobs.set_favorite(self.owned_job(user_id, job_id).id, on)

    def delete_job(self, user_id: str, job_id: str) -> None:
        """Delete the caller's finished job: its image and print file in storage, then its row.

        JobNotFound for an unknown or another's job, JobNotReady while it is pending or
        processing (cancel it first), StorageError when an object cannot be deleted. The
        objects go first: if storage fails the row stays, so the user sees the job and can
        try again, and no image is left behind with nothing pointing at it.
        """
        job = self.owned_job(user_id, job_id)
        if not job.status.is_terminal:
            raise still_running(job.id, job.status.value)
        for key in self._stored_keys(job):
            self.objects.delete(key)
        self.jobs.delete_finished(job.id)
        log.info("job deleted job_id=%s user_id=%s status=%s", job.id, safe(user_id), job.status.value)

    def _stored_keys(self, job: Job) -> list[str]:
        """Every object a job may have in storage: its image and its print file."""
        prefix = self.objects.prefix
        keys = [image_key(prefix, job.user_id, job.id), image_key(prefix, job.user_id, job.id, "_print")]
        if job.storage_key and job.storage_key not in keys:
            keys.append(job.storage_key)
        return keys

    def cancel(self, user_id: str, job_id: str) -> Job:
        """Cancel the caller's job; InvalidTransition when it has already finished.

        A job already handed to the generator is also stopped there (best effort): a remote
        worker frees its GPU instead of finishing an image nobody will see.
        """
        job = self.owned_job(user_id, job_id)
        canceled = self.jobs.mark_canceled(job.id)
        if job.status is JobStatus.PROCESSING:
            self.generator.cancel(job.id)
        return self.job_finished(canceled)
