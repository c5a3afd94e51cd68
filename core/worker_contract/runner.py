"""JobRunner: one engine, one job at a time — a bounded queue and a single thread.

The GPU worker (`modal_app.job_runner`) sends each job's news as signed webhooks; the app's
in-process generator (`core.generators.local_diffusers`) hands it to the result sink. Both run
their jobs here, so both load the model once in the background, refuse work past the queue's
size, stop a job whose progress report says it is gone (canceled, or finished elsewhere) or that
was canceled here (`cancel`: the self-hosted worker's `POST /cancel`), and
fail the jobs still waiting when they shut down, so none hangs in processing.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.worker_contract.engine import (
    GenerationCanceled,
    ImageEngine,
    InferenceError,
    InferenceRequest,
    InferenceResult,
)

log = logging.getLogger(__name__)

SHUTDOWN_MESSAGE = "the GPU worker shut down before this job started; please try again"


class JobOutlet(Protocol):
    """Where one job's news goes: signed webhooks (the worker) or a result sink (the app, in process)."""

    def progress(self, step: int, total: int) -> None:
        """After each denoising step, in the runner's thread. Raises GenerationCanceled when the job is gone."""
        ...

    def completed(self, result: InferenceResult) -> None: ...

    def failed(self, error: str, *, retry: bool = True) -> None:
        """`retry=False` when the runner shuts down: one quick try that must not hold it up."""
        ...

    def canceled(self) -> None:
        """The job stopped because its progress report said it is gone; nothing more is sent."""
        ...


@dataclass(frozen=True)
class RunnerJob:
    job_id: str
    request: InferenceRequest
    outlet: JobOutlet


class QueueFull(Exception):
    """The runner already holds as many jobs as it accepts (or is shutting down)."""


def describe_failure(exc: BaseException) -> str:
    """The message a failed job carries: an engine's own as written, anything else with its type."""
    if isinstance(exc, InferenceError):
        return str(exc)
    return f"generation failed: {type(exc).__name__}: {exc}"[:1000]


class JobRunner:
    """Owns the engine's single thread. `submit` only enqueues; the thread does the rest."""

    def __init__(self, engine: ImageEngine, *, max_queue: int = 16, thread_name: str = "generation-worker") -> None:
        self.engine = engine
        self._queue: queue.Queue[RunnerJob | None] = queue.Queue(maxsize=max_queue)
        self._active: set[str] = set()
        self._canceled: set[str] = set()  # queued or running jobs asked to stop (`cancel`)
        self._running_job: str | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._thread_name = thread_name
        self._stopping = False
        self.load_error: str | None = None

    # --- the caller's side ------------------------------------------------------------
    def start(self) -> None:
        """Start the thread, which begins by loading the model (idempotent)."""
        with self._lock:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
                self._thread.start()

    def submit(self, job: RunnerJob) -> bool:
        """Enqueue a job; False when the same job id is already queued or running (a repeat).

        Raises QueueFull when the queue is at capacity or the runner is shutting down.
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

    def cancel(self, job_id: str) -> bool:
        """Stop a job: a waiting one is dropped when its turn comes (it never starts), the running
        one stops at its next step, its outlet told `canceled` (the worker then reports the GPU
        time it used). False when this runner holds no such job."""
        with self._lock:
            if job_id not in self._active:
                return False
            self._canceled.add(job_id)
        log.info("job cancel asked job_id=%s running=%s", job_id, job_id == self._running_job)
        return True

    def _is_canceled(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._canceled

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
                job.outlet.failed(SHUTDOWN_MESSAGE, retry=False)
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=timeout_s)

    # --- the runner's thread ------------------------------------------------------------
    def _run(self) -> None:
        self._warm_up()
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._running_job = job.job_id
            try:
                if self._is_canceled(job.job_id):
                    log.info("job dropped, canceled before it started job_id=%s", job.job_id)
                else:
                    self._process(job)
            except Exception:  # an outlet that could not report must not end the runner's thread
                log.exception("could not report the outcome job_id=%s", job.job_id)
            finally:
                self._running_job = None
                with self._lock:
                    self._active.discard(job.job_id)
                    self._canceled.discard(job.job_id)

    def _warm_up(self) -> None:
        try:
            self.engine.load()
        except Exception as exc:  # reported on /health and again by each job's own load attempt
            self.load_error = describe_failure(exc)
            log.error("model load failed error=%s", self.load_error)

    def _process(self, job: RunnerJob) -> None:
        outlet = _StopWhenCanceled(job.outlet, lambda: self._is_canceled(job.job_id))
        if run_job(self.engine, job.request, outlet, job_id=job.job_id):
            self.load_error = None


class _StopWhenCanceled:
    """A job's outlet whose progress report stops the job once `cancel` was asked for it."""

    def __init__(self, outlet: JobOutlet, canceled: Callable[[], bool]) -> None:
        self._outlet = outlet
        self._canceled = canceled

    def progress(self, step: int, total: int) -> None:
        if self._canceled():
            raise GenerationCanceled("the job was canceled")
        self._outlet.progress(step, total)

    def completed(self, result: InferenceResult) -> None:
        self._outlet.completed(result)

    def failed(self, error: str, *, retry: bool = True) -> None:
        self._outlet.failed(error, retry=retry)

    def canceled(self) -> None:
        self._outlet.canceled()


def run_job(engine: ImageEngine, request: InferenceRequest, outlet: JobOutlet, *, job_id: str = "") -> bool:
    """Generate one job and report its outcome to `outlet`; True when it completed.

    The body of every runner: this one's thread, and the Modal GPU class's method.
    """
    try:
        result = engine.generate(request, outlet.progress)
    except GenerationCanceled:
        log.info("job stopped, canceled elsewhere job_id=%s", job_id)
        outlet.canceled()
    except Exception as exc:  # every failure must reach the app as a readable message
        message = describe_failure(exc)
        log.warning("job failed job_id=%s error=%s", job_id, message, exc_info=not isinstance(exc, InferenceError))
        outlet.failed(message)
    else:
        log.info("job generated job_id=%s steps=%d total_s=%.2f revision=%s",
                 job_id, result.steps, result.timings.total_s, result.model_revision)
        outlet.completed(result)
        return True
    return False
