"""GenerationWorker: the contract's JobRunner with each job's news leaving as signed webhooks.

A job's outcome always leaves as a webhook: `completed` with the PNG, or `failed` with a
message the user can read (bad size, out of memory, model not loadable, upload refused).
The PNG goes straight to the app's bucket when the dispatch carried a presigned `upload`
(the webhook then says only its size and SHA-256), else inside the webhook, base64. Each
outcome reports the GPU time the job used (`MeteredEngine`). Progress leaves as best-effort
`processing` webhooks from a side thread, so a slow app never holds up the GPU.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.worker_contract.engine import (
    GenerationCanceled,
    ImageEngine,
    InferenceRequest,
    InferenceResult,
    ProgressCallback,
)
from core.worker_contract.messages import UploadedImage, UploadTarget, WebhookPayload, WebhookProgress
from core.worker_contract.runner import JobRunner, RunnerJob
from modal_app.uploads import ResultUploader, UploadFailed
from modal_app.webhook_delivery import DeliveryReport, WebhookSender

PROGRESS_TIMEOUT_S = 2.0
# When this worker's code was imported: on Modal, the container's start (`image.imports()`),
# before the model loads; self-hosted, the process's. A cold start is measured from here.
WORKER_STARTED_AT = time.monotonic()


@dataclass(frozen=True)
class WorkerJob:
    job_id: str
    webhook_url: str
    request: InferenceRequest
    # where to PUT the PNG (a presigned bucket URL); None: the PNG goes in the webhook
    upload: UploadTarget | None = None


@dataclass(frozen=True)
class GpuTime:
    """What one job held the GPU for: generation, and the worker's start-up charged to it."""

    gpu_seconds: float
    cold_start_seconds: float

    def fields(self) -> dict[str, float]:
        return {"gpu_seconds": self.gpu_seconds, "cold_start_seconds": self.cold_start_seconds}


class MeteredEngine:
    """The engine, with each job's GPU time measured where the worker runs it.

    `generate` is timed from call to return (success, failure or cancel alike). The worker's
    start-up, from `started_at` (container boot, model load, any idle wait) to its first job,
    is a GPU bill too: it is charged to that first job as its cold start, later jobs get 0.
    The runner calls `generate` from its one thread, and reads `last` right after.
    """

    def __init__(self, engine: ImageEngine, started_at: float = WORKER_STARTED_AT) -> None:
        self.engine = engine
        self._started_at = started_at
        self._first_job = True
        self.last: GpuTime | None = None

    @property
    def model_name(self) -> str:  # type: ignore[override]
        return self.engine.model_name

    @property
    def is_loaded(self) -> bool:
        return self.engine.is_loaded

    def load(self) -> None:
        self.engine.load()

    def describe(self) -> dict[str, Any]:
        return self.engine.describe()

    def generate(self, request: InferenceRequest, on_progress: ProgressCallback | None = None) -> InferenceResult:
        began = time.monotonic()
        cold = max(0.0, began - self._started_at) if self._first_job else 0.0
        self._first_job = False
        try:
            return self.engine.generate(request, on_progress)
        finally:
            self.last = GpuTime(round(time.monotonic() - began, 3), round(cold, 3))


def completed_payload(
    job_id: str, result: InferenceResult, image: UploadedImage | None = None, gpu: GpuTime | None = None
) -> WebhookPayload:
    """The `completed` webhook: with `image` (uploaded to the bucket) it carries no bytes."""
    return WebhookPayload(
        job_id=job_id,
        status="completed",
        image_base64=None if image is not None else base64.b64encode(result.png).decode(),
        image=image,
        seed=result.seed,
        timings=result.timings.as_dict(),
        **(gpu.fields() if gpu else {}),
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


class WebhookOutlet:
    """One job's news as webhooks: progress from a side thread (started at the first step), then the
    result, its PNG uploaded first when the job names an upload."""

    def __init__(
        self,
        sender: WebhookSender,
        job: WorkerJob,
        on_delivered: Callable[[DeliveryReport], None],
        uploader: ResultUploader | None = None,
        gpu_time: Callable[[], GpuTime | None] = lambda: None,
    ) -> None:
        self._sender = sender
        self._job = job
        self._on_delivered = on_delivered
        self._uploader = uploader
        self._gpu_time = gpu_time
        self._reporter: ProgressReporter | None = None

    def progress(self, step: int, total: int) -> None:
        if self._reporter is None:
            self._reporter = ProgressReporter(self._sender, self._job)
        self._reporter.report(step, total)

    def completed(self, result: InferenceResult) -> None:
        gpu = self._gpu_time()
        if self._job.upload is None or self._uploader is None:
            self._deliver(completed_payload(self._job.job_id, result, gpu=gpu))
            return
        self._close_progress()
        try:
            image = self._uploader.upload(self._job.upload, result.png, self._job.job_id)
        except UploadFailed as exc:
            self._deliver(self._failed_payload(str(exc), gpu))
            return
        self._deliver(completed_payload(self._job.job_id, result, image=image, gpu=gpu))

    def failed(self, error: str, *, retry: bool = True) -> None:
        if retry:
            self._deliver(self._failed_payload(error, self._gpu_time()))
        else:  # the runner is shutting down: this job never ran
            payload = self._failed_payload(error, None)
            self._sender.post_once(self._job.webhook_url, payload, timeout_s=PROGRESS_TIMEOUT_S)

    def canceled(self) -> None:
        """No result to deliver, but the work done cost GPU time: one quick `processing` report
        of it (no progress); the app records it and answers 409, the job being over."""
        self._close_progress()
        gpu = self._gpu_time()
        if gpu is not None:
            report = WebhookPayload(job_id=self._job.job_id, status="processing", **gpu.fields())
            self._sender.post_once(self._job.webhook_url, report, timeout_s=PROGRESS_TIMEOUT_S)

    def _failed_payload(self, error: str, gpu: GpuTime | None) -> WebhookPayload:
        return WebhookPayload(job_id=self._job.job_id, status="failed", error=error, **(gpu.fields() if gpu else {}))

    def _deliver(self, payload: WebhookPayload) -> None:
        self._close_progress()
        self._on_delivered(self._sender.deliver(self._job.webhook_url, payload))

    def _close_progress(self) -> None:
        if self._reporter is not None:
            self._reporter.close()


class GenerationWorker:
    """The worker app's job queue: `submit` enqueues a WorkerJob, its news leaves as webhooks."""

    def __init__(
        self,
        engine: ImageEngine,
        sender: WebhookSender,
        *,
        max_queue: int = 16,
        uploader: ResultUploader | None = None,
        started_at: float = WORKER_STARTED_AT,
    ) -> None:
        self.engine = engine
        self._sender = sender
        self._uploader = uploader
        self._meter = MeteredEngine(engine, started_at)
        self._runner = JobRunner(self._meter, max_queue=max_queue, thread_name="generation-worker")
        self.last_delivery: DeliveryReport | None = None

    def start(self) -> None:
        self._runner.start()

    def submit(self, job: WorkerJob) -> bool:
        """Enqueue a job; False when the same job id is already queued or running (a repeat).

        Raises QueueFull when the queue is at capacity.
        """
        outlet = WebhookOutlet(self._sender, job, self._record_delivery, self._uploader, lambda: self._meter.last)
        return self._runner.submit(RunnerJob(job_id=job.job_id, request=job.request, outlet=outlet))

    def cancel(self, job_id: str) -> bool:
        """Drop a waiting job, or stop the running one at its next step; False: no such job here."""
        return self._runner.cancel(job_id)

    @property
    def queue_depth(self) -> int:
        return self._runner.queue_depth

    @property
    def busy(self) -> bool:
        return self._runner.busy

    @property
    def load_error(self) -> str | None:
        return self._runner.load_error

    def stop(self, timeout_s: float = 30.0) -> None:
        self._runner.stop(timeout_s)

    def _record_delivery(self, report: DeliveryReport) -> None:
        self.last_delivery = report
