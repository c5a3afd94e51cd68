"""GenerationWorker: the contract's JobRunner with each job's news leaving as signed webhooks.

A job's outcome always leaves as a webhook: `completed` with the PNG, or `failed` with a
message the user can read (bad size, out of memory, model not loadable). Progress leaves as
best-effort `processing` webhooks from a side thread, so a slow app never holds up the GPU.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass

from core.worker_contract.engine import GenerationCanceled, ImageEngine, InferenceRequest, InferenceResult
from core.worker_contract.messages import WebhookPayload, WebhookProgress
from core.worker_contract.runner import JobRunner, RunnerJob
from modal_app.webhook_delivery import DeliveryReport, WebhookSender

PROGRESS_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class WorkerJob:
    job_id: str
    webhook_url: str
    request: InferenceRequest


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


class WebhookOutlet:
    """One job's news as webhooks: progress from a side thread (started at the first step), then the result."""

    def __init__(self, sender: WebhookSender, job: WorkerJob, on_delivered: Callable[[DeliveryReport], None]) -> None:
        self._sender = sender
        self._job = job
        self._on_delivered = on_delivered
        self._reporter: ProgressReporter | None = None

    def progress(self, step: int, total: int) -> None:
        if self._reporter is None:
            self._reporter = ProgressReporter(self._sender, self._job)
        self._reporter.report(step, total)

    def completed(self, result: InferenceResult) -> None:
        self._deliver(completed_payload(self._job.job_id, result))

    def failed(self, error: str, *, retry: bool = True) -> None:
        payload = WebhookPayload(job_id=self._job.job_id, status="failed", error=error)
        if retry:
            self._deliver(payload)
        else:
            self._sender.post_once(self._job.webhook_url, payload, timeout_s=PROGRESS_TIMEOUT_S)

    def canceled(self) -> None:
        self._close_progress()

    def _deliver(self, payload: WebhookPayload) -> None:
        self._close_progress()
        self._on_delivered(self._sender.deliver(self._job.webhook_url, payload))

    def _close_progress(self) -> None:
        if self._reporter is not None:
            self._reporter.close()


class GenerationWorker:
    """The worker app's job queue: `submit` enqueues a WorkerJob, its news leaves as webhooks."""

    def __init__(self, engine: ImageEngine, sender: WebhookSender, *, max_queue: int = 16) -> None:
        self.engine = engine
        self._sender = sender
        self._runner = JobRunner(engine, max_queue=max_queue, thread_name="generation-worker")
        self.last_delivery: DeliveryReport | None = None

    def start(self) -> None:
        self._runner.start()

    def submit(self, job: WorkerJob) -> bool:
        """Enqueue a job; False when the same job id is already queued or running (a repeat).

        Raises QueueFull when the queue is at capacity.
        """
        outlet = WebhookOutlet(self._sender, job, self._record_delivery)
        return self._runner.submit(RunnerJob(job_id=job.job_id, request=job.request, outlet=outlet))

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
