"""Image generators: the offline draft renderer and the GPU worker dispatcher."""

from core.generators.base import GenerationOutcome, GenerationRequest, Generator, ResultSink
from core.generators.draft import DraftGenerator
from core.generators.remote_worker import RemoteWorkerDispatcher

__all__ = ["DraftGenerator", "GenerationOutcome", "GenerationRequest", "Generator", "RemoteWorkerDispatcher", "ResultSink"]
