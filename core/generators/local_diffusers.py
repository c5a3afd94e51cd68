"""LocalDiffusersGenerator: Qwen-Image in this process, for a machine with its own GPU.

It runs jobs on the worker's job runner (`core.worker_contract.runner`): one at a time from a
bounded queue, the model loading in the background first. Progress and results go to the sink,
the same path a worker's webhook takes; a progress report the sink refuses (the job was
canceled) stops the job, as a 409 stops the worker's. The engine is built by the composition
root (`modal_app.engine_config.qwen_image_engine`), so neither core nor the app's start-up
imports torch.
"""

from __future__ import annotations

import logging
from typing import Any

from core.errors import GeneratorUnavailable, InvalidTransition
from core.generators.base import GenerationOutcome, GenerationRequest, ResultSink
from core.worker_contract.engine import GenerationCanceled, ImageEngine, InferenceRequest, InferenceResult
from core.worker_contract.runner import JobRunner, QueueFull, RunnerJob

log = logging.getLogger(__name__)


class SinkOutlet:
    """One job's news as outcomes applied to the sink, in the runner's thread."""

    def __init__(self, job_id: str, sink: ResultSink) -> None:
        self._job_id = job_id
        self._sink = sink

    def progress(self, step: int, total: int) -> None:
        try:
            self._sink.apply_outcome(GenerationOutcome(job_id=self._job_id, status="processing",
                                                       progress_step=step, progress_total=total))
        except InvalidTransition as exc:  # the job is over (canceled, say): stop generating it
            raise GenerationCanceled(f"job {self._job_id} was canceled or finished elsewhere") from exc
        except Exception:  # progress is best effort; the result still counts
            log.exception("could not apply progress job_id=%s", self._job_id)

    def completed(self, result: InferenceResult) -> None:
        self._apply(GenerationOutcome(job_id=self._job_id, status="completed", png=result.png, seed=result.seed,
                                      timings=result.timings.as_dict()))

    def failed(self, error: str, *, retry: bool = True) -> None:
        self._apply(GenerationOutcome(job_id=self._job_id, status="failed", error=error[:1000]))

    def canceled(self) -> None:
        pass

    def _apply(self, outcome: GenerationOutcome) -> Any:
        try:
            return self._sink.apply_outcome(outcome)
        except InvalidTransition as exc:  # canceled (or reaped) meanwhile: expected, no traceback
            log.info("outcome not applied job_id=%s status=%s: %s", outcome.job_id, outcome.status, exc)
            return None
        except Exception:  # keep the runner going
            log.exception("could not apply outcome job_id=%s status=%s", outcome.job_id, outcome.status)
            return None


class LocalDiffusersGenerator:
    """Generates on the runner's thread; the model loads there first, so building one is instant."""

    runs_in_process = True

    def __init__(self, engine: ImageEngine, *, max_queue: int = 16) -> None:
        self.model_name = engine.model_name
        self.label = f"{self.model_name} in this process (TENKAIGEN_MODEL_PATH)"
        self._runner = JobRunner(engine, max_queue=max_queue, thread_name="local-diffusers")
        self._runner.start()

    def submit(self, request: GenerationRequest, sink: ResultSink) -> None:
        inference = InferenceRequest(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            width=request.width,
            height=request.height,
            seed=request.seed,
            steps=request.steps,
        )
        job = RunnerJob(job_id=request.job_id, request=inference, outlet=SinkOutlet(request.job_id, sink))
        try:
            self._runner.submit(job)
        except QueueFull as exc:
            raise GeneratorUnavailable(str(exc)) from exc

    def cancel(self, job_id: str) -> None:
        """A waiting job is dropped before it starts; the running one stops at its next step
        (its progress report would find it canceled too)."""
        self._runner.cancel(job_id)

    def close(self) -> None:
        self._runner.stop(timeout_s=60)
