"""Stand-in engines for the failure and scheduling paths the real tiny model cannot provoke."""

from __future__ import annotations

import threading
from typing import Any

from core.worker_contract.engine import InferenceRequest, InferenceResult, ProgressCallback


class FailingEngine:
    """Loads fine, then fails every job the way a broken GPU does."""

    model_name = "failing-engine"
    is_loaded = True

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def load(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_name}

    def generate(self, request: InferenceRequest, on_progress: ProgressCallback | None = None) -> InferenceResult:
        raise self.error


class GatedEngine:
    """Wraps a real engine; each job waits for `release` and records how many ran at once."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    @property
    def is_loaded(self) -> bool:
        return self.inner.is_loaded

    def load(self) -> None:
        self.inner.load()

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def generate(self, request: InferenceRequest, on_progress: ProgressCallback | None = None) -> InferenceResult:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.started.release()
        try:
            assert self.release.wait(timeout=30), "test never released the engine"
            return self.inner.generate(request, on_progress)
        finally:
            with self._lock:
                self.running -= 1
