"""The Generator protocol and the messages it exchanges with the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from core.parsing.models import ParsedPrompt
from core.worker_contract.messages import UploadedImage, UploadTarget


@dataclass(frozen=True)
class GenerationRequest:
    """One job as a generator sees it (a remote worker gets it as a `DispatchRequest`)."""

    job_id: str
    user_id: str
    prompt: str
    negative_prompt: str
    width: int
    height: int
    seed: int
    steps: int
    webhook_url: str
    brief: ParsedPrompt
    # where a remote worker PUTs the PNG itself (a presigned bucket URL); None: inline in the result
    upload: UploadTarget | None = None


@dataclass(frozen=True)
class GenerationOutcome:
    """What a generator reports back: the same facts a worker's webhook carries."""

    job_id: str
    status: Literal["processing", "completed", "failed"]
    png: bytes | None = None
    error: str | None = None
    seed: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    progress_step: int | None = None
    progress_total: int | None = None
    # a completed result the worker uploaded itself, instead of `png`
    image: UploadedImage | None = None
    gpu_seconds: float | None = None
    cold_start_seconds: float | None = None


@dataclass(frozen=True)
class WorkerQueue:
    """What a remote worker said of its queue when it took a job (its dispatch answer)."""

    gpu: Literal["warm", "starting"] | None = None  # "starting": no GPU was up, one is starting
    ahead: int | None = None  # jobs it will start before this one

    @property
    def gpu_wait(self) -> str | None:
        """The job's `gpu_wait`: "starting", "queued", or None when the worker told nothing."""
        if self.gpu == "starting":
            return "starting"
        if self.gpu == "warm" or self.ahead is not None:
            return "queued"
        return None


class ResultSink(Protocol):
    """Takes outcomes; the generation service is one. Webhooks end up here too."""

    def apply_outcome(self, outcome: GenerationOutcome) -> str: ...


class Generator(Protocol):
    model_name: str
    # True when jobs run inside this app process (they die with it); False for a remote worker
    runs_in_process: bool

    @property
    def label(self) -> str:
        """Which generator this is and where it runs, for the studio's header."""
        ...

    def submit(self, request: GenerationRequest, sink: ResultSink) -> WorkerQueue | None:
        """Accept a job; the outcome reaches `sink` (in process) or the webhook (remote). A
        remote worker's answer may say where the job waits (WorkerQueue); None otherwise.

        Raises GeneratorUnavailable when the job could not be handed over.
        """
        ...

    def cancel(self, job_id: str) -> None:
        """Best effort: stop a job this generator runs elsewhere (a remote worker); never raises.

        In-process generators do nothing: their next progress report finds the job canceled.
        """
        ...

    def close(self) -> None: ...
