"""Applying a generator's outcome to its job: progress, completion (the image stored first)
or failure, each delivery applied once however often it arrives."""

from __future__ import annotations

import logging

from core.errors import InvalidRequest, InvalidTransition, StorageError
from core.generators.base import GenerationOutcome
from core.imaging.png_check import check_png
from core.logsafe import safe
from core.jobs import Job, JobStatus, JobStore
from core.ops import metrics
from core.storage import ObjectStore, image_key

log = logging.getLogger(__name__)

APPLIED = "applied"
ALREADY_APPLIED = "already applied"
# A worker may round the asked size to its model's grid (multiples of 16 px); anything
# further off is not the image this job asked for.
SIZE_TOLERANCE_PX = 16


class OutcomeApplier:
    def __init__(self, jobs: JobStore, objects: ObjectStore) -> None:
        self._jobs = jobs
        self._objects = objects

    def apply_outcome(self, outcome: GenerationOutcome) -> str:
        """Apply a generator's outcome; `APPLIED`, or `ALREADY_APPLIED` for a repeat.

        Raises JobNotFound, InvalidTransition (a finished job asked to become something
        else), InvalidRequest (a completed outcome without a valid PNG) and StorageError
        (the upload failed: the job stays processing so the sender can retry).
        """
        job = self._jobs.get(outcome.job_id)
        target = JobStatus(outcome.status)
        if target is JobStatus.PROCESSING:
            if job.status.is_terminal:
                # tells the worker the job is over (canceled, say), so it can stop early
                raise InvalidTransition(job.id, job.status.value, target.value)
            if outcome.progress_step is not None and outcome.progress_total:
                self._jobs.record_progress(job.id, outcome.progress_step, outcome.progress_total)
            return APPLIED
        if job.status is target:
            return ALREADY_APPLIED
        if job.status.is_terminal:
            raise InvalidTransition(job.id, job.status.value, target.value)
        if job.status is JobStatus.PENDING:
            job = self._jobs.mark_processing(job.id)
        try:
            if target is JobStatus.COMPLETED:
                self._complete(job, outcome)
            else:
                metrics.job_finished(self._jobs.mark_failed(job.id, outcome.error or "the worker reported a failure without a message"))
                log.info("job failed job_id=%s error=%s", job.id, safe(outcome.error))
        except InvalidTransition:
            # another process or delivery finished it between our read and our write
            if self._jobs.get(job.id).status is target:
                return ALREADY_APPLIED
            raise
        return APPLIED

    def _complete(self, job: Job, outcome: GenerationOutcome) -> None:
        if not outcome.png:
            raise InvalidRequest("a completed result must carry the PNG image")
        width, height = check_png(outcome.png)
        if abs(width - job.width) > SIZE_TOLERANCE_PX or abs(height - job.height) > SIZE_TOLERANCE_PX:
            raise InvalidRequest(f"image is {width}x{height} but the job asked for {job.width}x{job.height}")
        key = image_key(self._objects.prefix, job.user_id, job.id)
        try:
            self._objects.put_png(key, outcome.png)
        except StorageError:
            log.error("upload failed job_id=%s key=%s", job.id, key)
            raise
        try:
            metrics.job_finished(self._jobs.mark_completed(job.id, key, self._objects.public_url(key), outcome.seed))
        except InvalidTransition:
            # canceled or reaped while we uploaded: its object must not outlive it. (A
            # concurrent duplicate delivery that completed it shares the key: keep that.)
            if self._jobs.get(job.id).status is not JobStatus.COMPLETED:
                self.discard_image(job)
            raise
        log.info("job completed job_id=%s key=%s", job.id, key)

    def discard_image(self, job: Job) -> None:
        """Remove a job's image if one was stored; storage errors are logged, not raised."""
        key = image_key(self._objects.prefix, job.user_id, job.id)
        try:
            self._objects.delete(key)
        except StorageError as exc:
            log.error("could not delete orphan image job_id=%s key=%s error=%s", job.id, key, exc)
