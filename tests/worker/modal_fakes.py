"""Modal's queue, offline: `spawn` queues a call that a fake GPU container runs on a thread.

The container runs the GPU method's real body (`spawned_job.run_spawned_job`) on the tiny
pipeline. `gpu_ready` is the cold start: closed, every call waits in the queue, as on Modal
while a container loads the model. `cancel` does what Modal's input cancellation does to a
running call: the call's next step raises inside the user code.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from core.worker_contract.engine import GenerationCanceled, InferenceRequest, InferenceResult, ProgressCallback
from modal_app.spawned_job import run_spawned_job
from modal_app.webhook_delivery import WebhookSender


class CancelableEngine:
    """A real engine whose steps raise once its call is canceled; `step_gate` holds a job mid-run."""

    def __init__(self, inner: Any, canceled: threading.Event) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.canceled = canceled
        self.step_gate = threading.Event()
        self.step_gate.set()
        self.first_step = threading.Event()

    @property
    def is_loaded(self) -> bool:
        return self.inner.is_loaded

    def load(self) -> None:
        self.inner.load()

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def planned_steps(self, request: InferenceRequest) -> int:
        return self.inner.planned_steps(request)

    def generate(self, request: InferenceRequest, on_progress: ProgressCallback | None = None) -> InferenceResult:
        def step(done: int, total: int) -> None:
            self.first_step.set()
            assert self.step_gate.wait(timeout=30), "test never released the step"
            if self.canceled.is_set():
                raise GenerationCanceled("the call was canceled")
            if on_progress is not None:
                on_progress(done, total)

        return self.inner.generate(request, step)


@dataclass
class FakeModalQueue:
    engine: Any
    sender: WebhookSender
    allowed_webhook_url: str | None = None
    gpu_ready: threading.Event = field(default_factory=threading.Event)
    hold_steps: bool = False
    spawned: list[dict[str, Any]] = field(default_factory=list)
    canceled_calls: list[str] = field(default_factory=list)
    finished: dict[str, bool] = field(default_factory=dict)
    engines: dict[str, CancelableEngine] = field(default_factory=dict)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def spawn(self, payload: dict[str, Any]) -> str:
        with self._lock:
            self.spawned.append(payload)
            call_id = f"fc-{len(self.spawned)}"
            engine = CancelableEngine(self.engine, threading.Event())
            if self.hold_steps:
                engine.step_gate.clear()
            self.engines[call_id] = engine
        thread = threading.Thread(target=self._run, args=(call_id, payload), daemon=True)
        self._threads.append(thread)
        thread.start()
        return call_id

    def cancel(self, call_id: str) -> None:
        self.canceled_calls.append(call_id)
        self.engines[call_id].canceled.set()

    def _run(self, call_id: str, payload: dict[str, Any]) -> None:
        assert self.gpu_ready.wait(timeout=60), "test never warmed the GPU"
        completed = run_spawned_job(self.engines[call_id], self.sender, payload, allowed_webhook_url=self.allowed_webhook_url)
        self.finished[call_id] = completed

    def join(self, timeout_s: float = 60) -> None:
        for thread in self._threads:
            thread.join(timeout=timeout_s)
