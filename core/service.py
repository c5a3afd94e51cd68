"""GenerationService: the one path from a prompt to a stored image.

It depends on protocols only (JobStore, ObjectStore, PromptParser, Generator), so tests
run it on real local backends and app.py picks the production ones from settings.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from core.catalog import Catalog
from core.errors import GeneratorUnavailable, InvalidRequest, InvalidTransition, JobNotReady, StorageError
from core.generators.base import GenerationOutcome, GenerationRequest, Generator
from core.jobs import Job, JobStatus, JobStore, NewJob
from core.parsing import ParsedPrompt, PromptParser
from core.png_check import check_png
from core.quotas import QuotaLimits, QuotaUsage
from core.policy import PromptPolicy, load_policy
from core.printfiles import render_print_file
from core.storage import ObjectStore, image_key

log = logging.getLogger(__name__)

APPLIED = "applied"
ALREADY_APPLIED = "already applied"
MAX_SEED = 2**31 - 1
# A worker may round the asked size to its model's grid (multiples of 16 px); anything
# further off is not the image this job asked for.
SIZE_TOLERANCE_PX = 16


@dataclass(frozen=True)
class ServiceLimits:
    max_prompt_chars: int = 1000
    steps: int = 50


@dataclass(frozen=True)
class StoredPrintFile:
    """A job's print-ready PNG, stored beside its image as {prefix}{user_id}/{job_id}_print.png."""

    key: str
    url: str
    width: int
    height: int
    dpi: int
    background_removed: bool


@dataclass(frozen=True)
class GenerateCommand:
    """A user's request to generate, before any validation."""

    prompt: str
    style: str
    product: str
    seed: int | None = None
    negative_prompt: str | None = None


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

    # --- parsing -----------------------------------------------------------------------
    def parse(self, prompt: str, style: str, product: str) -> ParsedPrompt:
        """The brief for a prompt; InvalidRequest for an empty or too long prompt or unknown ids,
        PolicyViolation (an InvalidRequest) for a prompt the policy refuses — checked before
        the parser runs, so a refused prompt costs neither a Gemini call nor GPU time."""
        text = self._clean_prompt(prompt)
        self.catalog.style(style)
        self.catalog.product(product)
        self.policy.check(text)
        return self.parser.parse(text, style, product)

    def _clean_prompt(self, prompt: str) -> str:
        text = " ".join(prompt.split())
        if not text:
            raise InvalidRequest("prompt is empty: describe the design you want")
        if len(text) > self._limits.max_prompt_chars:
            raise InvalidRequest(
                f"prompt is too long: {len(text)} characters, the limit is {self._limits.max_prompt_chars}"
            )
        return text

    # --- submitting --------------------------------------------------------------------
    def create_job(self, user_id: str, command: GenerateCommand) -> Job:
        """Validate, parse and store a pending job. Dispatch with `dispatch`.

        Raises InvalidRequest for bad input and QuotaExceeded when the user is over a limit.
        """
        brief = self.parse(command.prompt, command.style, command.product)
        if command.negative_prompt is not None and command.negative_prompt.strip():
            brief = brief.model_copy(update={"negative_prompt": command.negative_prompt.strip()[:2000]})
        seed = command.seed if command.seed is not None else secrets.randbelow(MAX_SEED)
        if not 0 <= seed <= MAX_SEED:
            raise InvalidRequest(f"seed must be between 0 and {MAX_SEED}")
        job = self.jobs.create_within_quota(
            NewJob(
                user_id=user_id,
                prompt=" ".join(command.prompt.split()),
                parsed_prompt=brief.model_dump(),
                style=brief.style,
                product=brief.product,
                width=brief.width,
                height=brief.height,
                seed=seed,
                model=self.generator.model_name,
            ),
            self._quotas,
        )
        log.info("job created job_id=%s user_id=%s style=%s product=%s", job.id, user_id, job.style, job.product)
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
            log.info("dispatch skipped job_id=%s status=%s", job_id, exc.current)
            return self.jobs.get(job_id)
        return self.hand_over(job)

    def hand_over(self, job: Job) -> Job:
        """Send a job this process has claimed (status processing) to the generator.

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
            steps=self._limits.steps,
            webhook_url=self._webhook_url,
            brief=brief,
        )
        try:
            self.generator.submit(request, self)
        except GeneratorUnavailable as exc:
            log.warning("dispatch failed job_id=%s error=%s", job.id, exc)
            return self._fail_quietly(job.id, str(exc))
        return job

    def submit(self, user_id: str, command: GenerateCommand) -> Job:
        """create_job + dispatch, for callers that can wait for the hand-over (the UI)."""
        return self.dispatch(self.create_job(user_id, command).id)

    def _fail_quietly(self, job_id: str, error: str) -> Job:
        try:
            return self.jobs.mark_failed(job_id, error)
        except InvalidTransition:
            return self.jobs.get(job_id)

    # --- results -----------------------------------------------------------------------
    def apply_outcome(self, outcome: GenerationOutcome) -> str:
        """Apply a generator's outcome; `APPLIED`, or `ALREADY_APPLIED` for a repeat.

        Raises JobNotFound, InvalidTransition (a finished job asked to become something
        else), InvalidRequest (a completed outcome without a valid PNG) and StorageError
        (the upload failed: the job stays processing so the sender can retry).
        """
        job = self.jobs.get(outcome.job_id)
        target = JobStatus(outcome.status)
        if target is JobStatus.PROCESSING:
            if job.status.is_terminal:
                # tells the worker the job is over (canceled, say), so it can stop early
                raise InvalidTransition(job.id, job.status.value, target.value)
            if outcome.progress_step is not None and outcome.progress_total:
                self.jobs.record_progress(job.id, outcome.progress_step, outcome.progress_total)
            return APPLIED
        if job.status is target:
            return ALREADY_APPLIED
        if job.status.is_terminal:
            raise InvalidTransition(job.id, job.status.value, target.value)
        if job.status is JobStatus.PENDING:
            job = self.jobs.mark_processing(job.id)
        try:
            if target is JobStatus.COMPLETED:
                self._complete(job, outcome)
            else:
                self.jobs.mark_failed(job.id, outcome.error or "the worker reported a failure without a message")
                log.info("job failed job_id=%s error=%s", job.id, outcome.error)
        except InvalidTransition:
            # another process or delivery finished it between our read and our write
            if self.jobs.get(job.id).status is target:
                return ALREADY_APPLIED
            raise
        return APPLIED

    def _complete(self, job: Job, outcome: GenerationOutcome) -> None:
        if not outcome.png:
            raise InvalidRequest("a completed result must carry the PNG image")
        width, height = check_png(outcome.png)
        if abs(width - job.width) > SIZE_TOLERANCE_PX or abs(height - job.height) > SIZE_TOLERANCE_PX:
            raise InvalidRequest(f"image is {width}x{height} but the job asked for {job.width}x{job.height}")
        key = image_key(self.objects.prefix, job.user_id, job.id)
        try:
            self.objects.put_png(key, outcome.png)
        except StorageError:
            log.error("upload failed job_id=%s key=%s", job.id, key)
            raise
        try:
            self.jobs.mark_completed(job.id, key, self.objects.public_url(key), outcome.seed)
        except InvalidTransition:
            # canceled or reaped while we uploaded: its object must not outlive it. (A
            # concurrent duplicate delivery that completed it shares the key: keep that.)
            if self.jobs.get(job.id).status is not JobStatus.COMPLETED:
                self.discard_image(job)
            raise
        log.info("job completed job_id=%s key=%s", job.id, key)

    def discard_image(self, job: Job) -> None:
        """Remove a job's image if one was stored; storage errors are logged, not raised."""
        key = image_key(self.objects.prefix, job.user_id, job.id)
        try:
            self.objects.delete(key)
        except StorageError as exc:
            log.error("could not delete orphan image job_id=%s key=%s error=%s", job.id, key, exc)

    # --- reading and canceling -----------------------------------------------------------
    def get_job(self, job_id: str) -> Job:
        return self.jobs.get(job_id)

    def quota_usage(self, user_id: str) -> QuotaUsage:
        return self.jobs.quota_usage(user_id)

    @property
    def quotas(self) -> QuotaLimits:
        return self._quotas

    def history(self, user_id: str, limit: int = 20, offset: int = 0) -> list[Job]:
        return self.jobs.list_for_user(user_id, limit=limit, offset=offset)

    def cancel(self, job_id: str) -> Job:
        return self.jobs.mark_canceled(job_id)

    # --- print files ---------------------------------------------------------------------
    def export_print_file(self, job_id: str) -> StoredPrintFile:
        """Render and store the print-ready PNG of a completed job (overwriting an earlier one).

        JobNotFound for an unknown job, JobNotReady when it has not completed, StorageError
        when the image cannot be read or the print file cannot be written.
        """
        job = self.jobs.get(job_id)
        if job.status is not JobStatus.COMPLETED or not job.storage_key:
            raise JobNotReady(f"job {job.id} is {job.status.value}: a print file needs a completed job")
        product = self.catalog.product(job.product)
        print_file = render_print_file(self.objects.get(job.storage_key), product)
        key = image_key(self.objects.prefix, job.user_id, job.id, "_print")
        self.objects.put_png(key, print_file.png)
        log.info(
            "print file stored job_id=%s key=%s size=%dx%d dpi=%d background_removed=%s",
            job.id, key, print_file.width, print_file.height, print_file.dpi, print_file.background_removed,
        )
        return StoredPrintFile(
            key=key, url=self.objects.public_url(key), width=print_file.width, height=print_file.height,
            dpi=print_file.dpi, background_removed=print_file.background_removed,
        )

    def load_image(self, job: Job) -> bytes:
        """The stored PNG of a completed job; StorageError when it cannot be read."""
        if job.status is not JobStatus.COMPLETED or not job.storage_key:
            raise InvalidRequest(f"job {job.id} has no image (status {job.status.value})")
        return self.objects.get(job.storage_key)
