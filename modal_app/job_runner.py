"""GenerationWorker: one GPU, one job at a time — a queue, a single thread, signed webhooks out.

A job's outcome always leaves as a webhook: `completed` with the PNG, or `failed` with a
message the user can read (bad size, out of memory, model not loadable). Progress leaves as
best-effort `processing` webhooks from a side thread, so a slow app never holds up the GPU.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from core.worker_contract.webhooks import WebhookPayload, WebhookProgress
from modal_app.inference import (
    GenerationCanceled,
    InferenceError,
    InferenceRequest,
    InferenceResult,
    ProgressCallback,
)
from modal_app.webhook_delivery import DeliveryReport, WebhookSender

log = logging.getLogger(__name__)

PROGRESS_TIMEOUT_S = 2.0


class ImageEngine(Protocol):
    """What the worker needs of the inference code (QwenImageEngine, or a stand-in in tests)."""

    model_name: str

    @property
    def is_loaded(self) -> bool: ...

    def load(self) -> None: ...

    def generate(self, request: InferenceRequest, on_progress: ProgressCallback | None = None) -> InferenceResult: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class WorkerJob:
    job_id: str
    webhook_url: str
    request: InferenceRequest


class QueueFull(Exception):
    """The worker already holds as many jobs as it accepts."""


def describe_failure(exc: BaseException) -> str:
    """The message a failed job carries: ours as written, anything else with its type."""
    if isinstance(exc, InferenceError):
        return str(exc)
    return f"generation failed: {type(exc).__name__}: {exc}"[:1000]


def completed_payload(job_id: str, result: InferenceResult) -> WebhookPayload:
    return WebhookPayload(
        job_id=job_id,
        status="completed",
        image_base64=base64.b64encode(result.png).decode(),
        seed=result.seed,
        timings=result.timings.as_dict(),
    )


class ProgressReporter:
    """Sends the latest step as a `processing` webhook from its own thread, one try each.

    `report` never waits on the network. A 409 answer means the job is canceled or finished:
    the next `report` raises GenerationCanceled, which stops the denoising loop.
    """

    def __init__(self, sender: WebhookSender, job: WorkerJob, timeout_s: float = PROGRESS_TIMEOUT_S) -> None:
        self._sender = sender
        self._job = job
        self._timeout_s = timeout_s
        self._pending: tuple[int, int] | None = None
        self._closed = False
        self._changed = threading.Condition()
        self.canceled = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"progress-{job.job_id[:8]}", daemon=True)
        self._thread.start()

    def report(self, step: int, total: int) -> None:
        if self.canceled.is_set():
            raise GenerationCanceled(f"job {self._job.job_id} was canceled or finished elsewhere")
        with self._changed:
            self._pending = (step, total)
            self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._closed or self._pending is not None)
                if self._closed:
                    return
                step, total = self._pending  # type: ignore[misc]
                self._pending = None
            payload = WebhookPayload(
                job_id=self._job.job_id, status="processing", progress=WebhookProgress(step=step, total=total)
            )
            status = self._sender.post_once(self._job.webhook_url, payload, self._timeout_s)
            if status == 409:
                self.canceled.set()

    def close(self) -> None:
        """Drop what is pending and wait (bounded) for a post in flight, so the result goes last."""
        with self._changed:
            self._closed = True
            self._pending = None
            self._changed.notify()
        self._thread.join(timeout=self._timeout_s + 1.0)


class GenerationWorker:
    """Owns the engine's single worker thread. `submit` only enqueues; the thread does the rest."""

    def __init__(self, engine: ImageEngine, sender: WebhookSender, *, max_queue: int = 16) -> None:
        self.engine = engine
        self._sender = sender
        self._queue: queue.Queue[WorkerJob | None] = queue.Queue(maxsize=max_queue)
        self._active: set[str] = set()
        self._running_job: str | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.load_error: str | None = None
        self.last_delivery: DeliveryReport | None = None

    # --- the caller's side ------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name="generation-worker", daemon=True)
                self._thread.start()

    def submit(self, job: WorkerJob) -> bool:
        """Enqueue a job; False when the same job id is already queued or running (a repeat).

        Raises QueueFull when the queue is at capacity.
        """
        self.start()
        with self._lock:
            if self._stopping:
                raise QueueFull("the GPU worker is shutting down")
            if job.job_id in self._active:
                return False
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                raise QueueFull(f"the GPU worker queue is full ({self._queue.maxsize} jobs)") from None
            self._active.add(job.job_id)
        log.info("job accepted job_id=%s size=%dx%d queue_depth=%d",
                 job.job_id, job.request.width, job.request.height, self.queue_depth)
        return True

    @property
    def queue_depth(self) -> int:
        """Jobs waiting, not counting the one being generated."""
        return self._queue.qsize()

    @property
    def busy(self) -> bool:
        return self._running_job is not None

    def stop(self, timeout_s: float = 30.0) -> None:
        """Fail the jobs still waiting (so none hangs in processing), let the current one finish."""
        with self._lock:
            self._stopping = True
            thread = self._thread
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                payload = WebhookPayload(job_id=job.job_id, status="failed",
                                         error="the GPU worker shut down before this job started; please try again")
                self._sender.post_once(job.webhook_url, payload, timeout_s=PROGRESS_TIMEOUT_S)
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=timeout_s)

    # --- the worker thread --------------------------------------------------------------
    def _run(self) -> None:
        self._warm_up()
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._running_job = job.job_id
            try:
                self._process(job)
            finally:
                self._running_job = None
                with self._lock:
                    self._active.discard(job.job_id)

    def _warm_up(self) -> None:
        try:
            self.engine.load()
        except Exception as exc:  # reported on /health and again by each job's own load attempt
            self.load_error = describe_failure(exc)
            log.error("model load failed error=%s", self.load_error)

    def _process(self, job: WorkerJob) -> None:
        progress = ProgressReporter(self._sender, job)
        try:
            result = self.engine.generate(job.request, progress.report)
        except GenerationCanceled:
            log.info("job stopped, canceled elsewhere job_id=%s", job.job_id)
            return
        except Exception as exc:  # every failure must reach the app as a readable message
            message = describe_failure(exc)
            log.warning("job failed job_id=%s error=%s", job.job_id, message, exc_info=not isinstance(exc, InferenceError))
            payload = WebhookPayload(job_id=job.job_id, status="failed", error=message)
        else:
            self.load_error = None
            log.info("job generated job_id=%s steps=%d total_s=%.2f revision=%s",
                     job.job_id, result.steps, result.timings.total_s, result.model_revision)
            payload = completed_payload(job.job_id, result)
        finally:
            progress.close()
        self.last_delivery = self._sender.deliver(job.webhook_url, payload)
