"""An in-process generator for service tests: records what it is handed and holds it."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.generators.base import GenerationRequest, ResultSink


@dataclass
class RecordingGenerator:
    """Accepts every job and never reports back, like a GPU worker still busy."""

    model_name: str = "recording"
    label: str = "recording generator (tests)"
    runs_in_process: bool = False  # like a GPU worker: recovery leaves its jobs to the deadline
    requests: list[GenerationRequest] = field(default_factory=list)
    canceled: list[str] = field(default_factory=list)

    def submit(self, request: GenerationRequest, sink: ResultSink) -> None:
        self.requests.append(request)

    def cancel(self, job_id: str) -> None:
        self.canceled.append(job_id)

    def close(self) -> None:
        pass
