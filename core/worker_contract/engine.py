"""What the job runner asks of an image engine: a request, a result, and the errors it understands.

`modal_app.inference.QwenImageEngine` is the engine; tests use stand-ins. These types sit in
the contract, not beside the engine, so the app's in-process generator can run jobs without
importing the worker (and torch) until an engine is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class InferenceError(Exception):
    """Base of the errors an engine raises on purpose; their message is meant for the user."""


class GenerationCanceled(InferenceError):
    """The progress callback asked to stop (the job was canceled or finished elsewhere)."""


@dataclass(frozen=True)
class InferenceRequest:
    """One image to make. `steps`/`true_cfg_scale` left as None take the engine's defaults."""

    prompt: str
    width: int
    height: int
    seed: int
    negative_prompt: str = ""
    steps: int | None = None
    true_cfg_scale: float | None = None


@dataclass(frozen=True)
class StageTimings:
    load_s: float
    text_encoding_s: float
    denoising_s: float
    vae_decode_s: float
    png_encode_s: float
    total_s: float

    def as_dict(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in self.__dict__.items()}


@dataclass(frozen=True)
class InferenceResult:
    png: bytes
    seed: int
    steps: int
    width: int
    height: int
    true_cfg_scale: float
    timings: StageTimings
    model_revision: str


ProgressCallback = Callable[[int, int], None]
"""Called as `on_progress(step, total)` after each denoising step; may raise GenerationCanceled."""


class ImageEngine(Protocol):
    """What the job runner needs of the inference code (QwenImageEngine, or a stand-in in tests)."""

    model_name: str

    @property
    def is_loaded(self) -> bool: ...

    def load(self) -> None: ...

    def generate(self, request: InferenceRequest, on_progress: ProgressCallback | None = None) -> InferenceResult: ...

    def describe(self) -> dict[str, Any]: ...
