"""Applying a generator's outcome to its job: progress, completion (the image checked and
stored first) or failure, each delivery applied once however often it arrives.

A completed result whose image is not a whole, readable PNG of the job's size ends the job
failed with the reason at once: whoever sent it treats the refusal as final (the worker does
not retry a 4xx), so nothing else would ever come.

An image the object store refuses (after the S3 client's own quick retries):
- for a job running in this process, the upload is tried again a few times with backoff
  (IN_PROCESS_UPLOAD_BACKOFF_S, about 20 s in all); then the job fails, naming the storage
  error: nobody else holds its image, so there is nothing to wait for;
- for a remote worker's job, the webhook answers 503 at once and the job stays processing:
  the worker posts the result again on its own, longer schedule. Each refused delivery is
  counted on the job; the worker posts a result at most WORKER_DELIVERY_ATTEMPTS times, so at
  that count the job fails with the storage error instead of waiting for the processing
  deadline (and if the worker gave up sooner, the deadline's reaper keeps the recorded storage
  error as the reason).

A completed result reaches storage one of two ways. Inline: the PNG comes with the outcome
(the in-process generators, or a worker's base64 webhook) and is stored here. Direct: the
dispatch carried a presigned PUT for the job's object (`upload_target`), the worker uploaded
the PNG itself, and its small webhook says how many bytes and which SHA-256; the object is
checked against that before the job completes, and a missing or wrong one fails the job
with the reason, so it never waits for an image that will not come.

How far the object is checked (TENKAIGEN_UPLOAD_CHECK), in one request to the bucket either way:
- `full` (the default): one GET of the whole object, whose answer also carries its size and
  content type: it is there, has the bytes the worker sent, is stored as image/png, has the
  worker's SHA-256, and decodes whole (every pixel, within check_png's bounds) at the asked size;
- `header`: one ranged GET of its first 33 bytes instead: the same up to the PNG header
  (signature, IHDR with a valid CRC, the asked size). A single PUT is all or nothing and its
  length is the one the worker declared, so what this leaves unread is the pixels the worker
  itself encoded and hashed. It saves the app hashing and decoding every image (~10 ms of CPU
  at 1328², most of what a job costs the app: bench/bench_direct_upload.py) and, on a real
  bucket, transferring each image a second time.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.errors import InvalidRequest, InvalidTransition, StorageError
from core.generators.base import GenerationOutcome
from core.imaging.png_check import PNG_HEADER_BYTES, check_png, check_png_header
from core.logsafe import safe
from core.jobs import GpuUsage, Job, JobStatus, JobStore
from core.storage import ObjectStore, image_key
from core.worker_contract.messages import UploadedImage, UploadTarget

log = logging.getLogger(__name__)

APPLIED = "applied"
ALREADY_APPLIED = "already applied"
# A worker may round the asked size to its model's grid (multiples of 16 px); anything
# further off is not the image this job asked for.
SIZE_TOLERANCE_PX = 16
PNG_CONTENT_TYPE = "image/png"
# the `full` check reads a direct upload whole: no larger than an inline result may be
MAX_FULLY_CHECKED_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class DirectUploads:
    """Whether dispatches carry a presigned PUT for the result (TENKAIGEN_DIRECT_UPLOAD), for
    how long it is valid (TENKAIGEN_UPLOAD_URL_EXPIRES_S: a cold start plus the job), and how
    far the uploaded object is checked (TENKAIGEN_UPLOAD_CHECK: `full` or `header`)."""

    enabled: bool = True
    expires_s: int = 3600
    check: str = "full"

    def __post_init__(self) -> None:
        if self.check not in ("header", "full"):
            raise ValueError(f"the upload check is 'header' or 'full', not {self.check!r}")


def usage_of(outcome: GenerationOutcome) -> GpuUsage:
    return GpuUsage(outcome.gpu_seconds, outcome.cold_start_seconds)


# an in-process job's upload: the first try, then one after each wait
IN_PROCESS_UPLOAD_BACKOFF_S: tuple[float, ...] = (1.0, 4.0, 15.0)
# How many times the GPU worker posts one result before it gives up
# (modal_app/webhook_delivery.py, DEFAULT_BACKOFF_S: 7 waits, so 8 posts over about four minutes).
WORKER_DELIVERY_ATTEMPTS = 8


class OutcomeApplier:
    def __init__(
        self,
        jobs: JobStore,
        objects: ObjectStore,
        uploads: DirectUploads = DirectUploads(),
        upload_backoff_s: Sequence[float] = IN_PROCESS_UPLOAD_BACKOFF_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._jobs = jobs
        self._objects = objects
        self._upload_backoff_s = tuple(upload_backoff_s)
        self._sleep = sleep
        self._uploads = uploads

    def upload_target(self, job: Job) -> UploadTarget | None:
        """The presigned PUT for the job's object, or None: the store has none (a local folder),
        direct uploads are off, or presigning failed (then the result comes inline, as before)."""
        if not self._uploads.enabled:
            return None
        key = image_key(self._objects.prefix, job.user_id, job.id)
        try:
            presigned = self._objects.presigned_put_url(key, self._uploads.expires_s)
        except StorageError as exc:
            log.warning("no direct upload job_id=%s error=%s", job.id, exc)
            return None
        if presigned is None:
            return None
        return UploadTarget(url=presigned.url, headers=presigned.headers)

    def apply_outcome(self, outcome: GenerationOutcome) -> str:
        """Apply a generator's outcome; `APPLIED`, or `ALREADY_APPLIED` for a repeat.

        Raises JobNotFound, InvalidTransition (a finished job asked to become something
        else), InvalidRequest (a completed outcome without a whole PNG of the job's size: the
        job is failed with the reason) and StorageError (the upload failed: see the module's
        docstring for when the job stays processing so the sender can retry).
        """
        job = self._jobs.get(outcome.job_id)
        target = JobStatus(outcome.status)
        usage = usage_of(outcome)
        if target is JobStatus.PROCESSING:
            if job.status.is_terminal:
                # the GPU time of work a cancel stopped comes this way: count it, once
                if usage.reported:
                    self._jobs.record_gpu_usage(job.id, usage)
                # tells the worker the job is over (canceled, say), so it can stop early
                raise InvalidTransition(job.id, job.status.value, target.value)
            if outcome.progress_step is not None and outcome.progress_total:
                self._jobs.record_progress(job.id, outcome.progress_step, outcome.progress_total)
            return APPLIED
        if job.status is target:
            return ALREADY_APPLIED
        if job.status.is_terminal:
            if usage.reported:  # a result for a job that ended meanwhile still cost GPU time
                self._jobs.record_gpu_usage(job.id, usage)
            if outcome.image is not None and job.status is not JobStatus.COMPLETED:
                self.discard_image(job)  # uploaded for a job that ended meanwhile (canceled, reaped)
            raise InvalidTransition(job.id, job.status.value, target.value)
        if job.status is JobStatus.PENDING:
            job = self._jobs.mark_processing(job.id)
        try:
            if target is JobStatus.COMPLETED:
                self._complete(job, outcome)
            else:
                self._jobs.mark_failed(job.id, outcome.error or "the worker reported a failure without a message", usage)
                log.info("job failed job_id=%s error=%s", job.id, safe(outcome.error))
        except InvalidTransition:
            # another process or delivery finished it between our read and our write
            if self._jobs.get(job.id).status is target:
                return ALREADY_APPLIED
            raise
        return APPLIED

    def _complete(self, job: Job, outcome: GenerationOutcome) -> None:
        key = image_key(self._objects.prefix, job.user_id, job.id)
        if outcome.image is not None:
            problem = self._uploaded_problem(job, key, outcome.image)
            if problem is not None:
                self._fail_upload(job, key, problem, usage_of(outcome))
                return
        else:
            try:
                self._check_image(job, outcome.png)
            except InvalidRequest as exc:
                self._jobs.mark_failed(job.id, f"the generated image was refused: {exc}", usage_of(outcome))
                log.warning("job failed job_id=%s error=image refused: %s", job.id, exc)
                raise
            assert outcome.png is not None  # _check_image refused a missing one
            try:
                self._upload(job, key, outcome.png)
            except StorageError as exc:
                self._upload_failed(job, exc)
                raise
        try:
            self._jobs.mark_completed(job.id, key, self._objects.public_url(key), outcome.seed, usage_of(outcome))
        except InvalidTransition:
            # canceled or reaped while we uploaded: its object must not outlive it. (A
            # concurrent duplicate delivery that completed it shares the key: keep that.)
            if self._jobs.get(job.id).status is not JobStatus.COMPLETED:
                self.discard_image(job)
            raise
        log.info("job completed job_id=%s key=%s", job.id, key)

    @staticmethod
    def _check_image(job: Job, png: bytes | None) -> None:
        """The whole image decoded (within pixel and text-chunk limits) and of the job's size."""
        if not png:
            raise InvalidRequest("a completed result must carry the PNG image")
        OutcomeApplier._check_size(job, check_png(png))

    @staticmethod
    def _check_size(job: Job, size: tuple[int, int]) -> None:
        width, height = size
        if abs(width - job.width) > SIZE_TOLERANCE_PX or abs(height - job.height) > SIZE_TOLERANCE_PX:
            raise InvalidRequest(f"image is {width}x{height} but the job asked for {job.width}x{job.height}")

    def _upload(self, job: Job, key: str, png: bytes) -> None:
        """Store the image; an in-process job's upload is tried again after each wait in the
        backoff (a remote job's sender retries on its own). The last StorageError otherwise."""
        waits = self._upload_backoff_s if job.runs_in_process else ()
        for attempt, wait_s in enumerate((*waits, None), start=1):
            try:
                self._objects.put_png(key, png)
                return
            except StorageError as exc:
                if wait_s is None:
                    raise
                log.warning("upload failed job_id=%s key=%s attempt=%d error=%s", job.id, key, attempt, exc)
                self._sleep(wait_s)

    def _upload_failed(self, job: Job, exc: StorageError) -> None:
        """Fail the job now when no later delivery can come; otherwise count the refusal."""
        reason = f"could not store the image: {exc}"
        if not job.runs_in_process:
            failures = self._jobs.record_upload_failure(job.id, reason)
            if failures < WORKER_DELIVERY_ATTEMPTS:
                log.error("upload failed job_id=%s failures=%d error=%s (the worker will retry)", job.id, failures, exc)
                return
        log.error("job failed job_id=%s error=%s", job.id, reason)
        try:
            self._jobs.mark_failed(job.id, reason)
        except InvalidTransition:  # canceled or reaped meanwhile: it has ended either way
            pass

    def _uploaded_problem(self, job: Job, key: str, claim: UploadedImage) -> str | None:
        """What is wrong with the object the worker says it uploaded, or None when it is the image.

        One request either way: a ranged GET of the PNG header, or (the `full` check) of the
        whole object; its answer also tells the object's size and content type. A storage error
        is raised, not reported: the job stays processing and the worker retries.
        """
        full = self._uploads.check == "full"
        if full and claim.bytes > MAX_FULLY_CHECKED_BYTES:
            return f"the worker's upload of the image is {claim.bytes} bytes, over the {MAX_FULLY_CHECKED_BYTES} checked"
        info = self._objects.head(key, first_bytes=claim.bytes if full else PNG_HEADER_BYTES)
        if info is None:
            return f"the worker's upload of the image is missing from storage ({key})"
        if info.bytes != claim.bytes:
            return f"the worker's upload of the image has {info.bytes} bytes, expected {claim.bytes} ({key})"
        if (info.content_type or "").split(";")[0].strip().lower() != PNG_CONTENT_TYPE:
            return f"the worker's upload of the image is stored as {info.content_type!r}, not {PNG_CONTENT_TYPE} ({key})"
        try:
            self._check_size(job, check_png_header(info.first_bytes))
            if not full:
                return None
            digest = hashlib.sha256(info.first_bytes).hexdigest()
            if digest != claim.sha256:
                return (f"the worker's upload of the image has SHA-256 {digest[:12]}…, "
                        f"expected {claim.sha256[:12]}… ({key})")
            self._check_image(job, info.first_bytes)
        except InvalidRequest as exc:
            return f"the worker's upload of the image is not the asked image: {exc}"
        return None

    def _fail_upload(self, job: Job, key: str, problem: str, usage: GpuUsage) -> None:
        log.warning("direct upload refused job_id=%s error=%s", job.id, problem)
        self._jobs.mark_failed(job.id, problem, usage)
        self.discard_image(job)

    def discard_image(self, job: Job) -> None:
        """Remove a job's image if one was stored; storage errors are logged, not raised."""
        key = image_key(self._objects.prefix, job.user_id, job.id)
        try:
            self._objects.delete(key)
        except StorageError as exc:
            log.error("could not delete orphan image job_id=%s key=%s error=%s", job.id, key, exc)
