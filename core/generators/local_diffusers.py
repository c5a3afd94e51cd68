"""LocalDiffusersGenerator: Qwen-Image in this process, for a machine with its own GPU.

It runs the worker's inference code (`modal_app.inference`) in a single thread, one job at a
time, and reports progress and results to the sink, the same path a worker's webhook takes.
torch and diffusers are imported only when one is built, so the app starts without the
worker extra installed.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.generators.base import GenerationOutcome, GenerationRequest, ResultSink

if TYPE_CHECKING:
    from modal_app.job_runner import ImageEngine

log = logging.getLogger(__name__)


class LocalDiffusersGenerator:
    """Generates in a worker thread; the model loads there first, so building one is instant."""

    def __init__(self, engine: ImageEngine) -> None:
        self._engine = engine
        self.model_name = engine.model_name
        self.label = f"{self.model_name} in this process (TENKAIGEN_MODEL_PATH)"
        self._queue: queue.Queue[tuple[GenerationRequest, ResultSink] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="local-diffusers", daemon=True)
        self._thread.start()

    @classmethod
    def for_model(
        cls,
        model: str | Path,
        *,
        cache_dir: Path | None = None,
        revision: str | None = None,
        allow_download: bool = False,
        lightning: int | None = None,
        nunchaku: bool = False,
        min_side: int = 256,
        max_side: int = 2048,
    ) -> LocalDiffusersGenerator:
        """A generator for a Qwen-Image folder or Hub id (see modal_app.inference.EngineConfig)."""
        from modal_app.inference import EngineConfig, QwenImageEngine  # torch loads here, not at app import

        config = EngineConfig(
            model=str(model),
            revision=revision,
            cache_dir=cache_dir,
            allow_download=allow_download,
            lightning=lightning,  # type: ignore[arg-type]
            nunchaku=nunchaku,
            min_side=min_side,
            max_side=max_side,
        )
        return cls(QwenImageEngine(config))

    def submit(self, request: GenerationRequest, sink: ResultSink) -> None:
        self._queue.put((request, sink))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=60)

    def _run(self) -> None:
        try:
            self._engine.load()
        except Exception:  # each job retries the load and fails with the reason
            log.exception("model load failed model=%s", self.model_name)
        while (item := self._queue.get()) is not None:
            request, sink = item
            self._apply(sink, self._generate(request, sink))

    def _generate(self, request: GenerationRequest, sink: ResultSink) -> GenerationOutcome:
        from modal_app.inference import InferenceError, InferenceRequest

        def on_progress(step: int, total: int) -> None:
            self._apply(sink, GenerationOutcome(job_id=request.job_id, status="processing",
                                                progress_step=step, progress_total=total))

        try:
            result = self._engine.generate(
                InferenceRequest(
                    prompt=request.prompt,
                    negative_prompt=request.negative_prompt,
                    width=request.width,
                    height=request.height,
                    seed=request.seed,
                    steps=request.steps,
                ),
                on_progress,
            )
        except Exception as exc:  # a failure must fail the job, not vanish in the thread
            known = isinstance(exc, InferenceError)
            log.warning("generation failed job_id=%s error=%s", request.job_id, exc, exc_info=not known)
            error = str(exc) if known else f"generation failed: {type(exc).__name__}: {exc}"
            return GenerationOutcome(job_id=request.job_id, status="failed", error=error[:1000])
        return GenerationOutcome(
            job_id=request.job_id,
            status="completed",
            png=result.png,
            seed=result.seed,
            timings=result.timings.as_dict(),
        )

    @staticmethod
    def _apply(sink: ResultSink, outcome: GenerationOutcome) -> Any:
        try:
            return sink.apply_outcome(outcome)
        except Exception:  # e.g. the job was canceled meanwhile: log it, keep the worker alive
            log.exception("could not apply outcome job_id=%s status=%s", outcome.job_id, outcome.status)
            return None
