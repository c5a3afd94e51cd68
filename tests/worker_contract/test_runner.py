"""JobRunner with a scripted engine: the queue, the order, cancel on a refused progress report, shutdown."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from core.worker_contract.engine import (
    GenerationCanceled,
    InferenceError,
    InferenceRequest,
    InferenceResult,
    ProgressCallback,
    StageTimings,
)
from core.worker_contract.runner import SHUTDOWN_MESSAGE, JobRunner, QueueFull, RunnerJob
from tests.support.servers import wait_until

STEPS = 2


class ScriptedEngine:
    """Runs STEPS steps per job; a prompt in `gates` waits for its event, `failures` raise."""

    model_name = "scripted"

    def __init__(self, load_error: Exception | None = None) -> None:
        self.load_error = load_error
        self.gates: dict[str, threading.Event] = {}
        self.failures: dict[str, Exception] = {}
        self.is_loaded = False

    def load(self) -> None:
        if self.load_error is not None:
            raise self.load_error
        self.is_loaded = True

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_name}

    def generate(self, request: InferenceRequest, on_progress: ProgressCallback | None = None) -> InferenceResult:
        self.load()
        if request.prompt in self.gates:
            assert self.gates[request.prompt].wait(timeout=20), "the test never opened the gate"
        if request.prompt in self.failures:
            raise self.failures[request.prompt]
        for step in range(1, STEPS + 1):
            if on_progress is not None:
                on_progress(step, STEPS)
        timings = StageTimings(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return InferenceResult(png=request.prompt.encode(), seed=request.seed, steps=STEPS, width=request.width,
                               height=request.height, true_cfg_scale=1.0, timings=timings, model_revision="scripted")


class Events:
    """What every outlet was told, in the order it was told, as (job_id, what)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[tuple[str, str]] = []

    def add(self, job_id: str, what: str) -> None:
        with self._lock:
            self.items.append((job_id, what))

    def of(self, job_id: str) -> list[str]:
        with self._lock:
            return [what for job, what in self.items if job == job_id]


class RecordingOutlet:
    def __init__(self, job_id: str, events: Events, cancel_at_step: int | None = None) -> None:
        self.job_id = job_id
        self.events = events
        self.cancel_at_step = cancel_at_step

    def progress(self, step: int, total: int) -> None:
        if step == self.cancel_at_step:
            raise GenerationCanceled("the job is gone")
        self.events.add(self.job_id, f"step {step}/{total}")

    def completed(self, result: InferenceResult) -> None:
        self.events.add(self.job_id, f"completed {result.png.decode()}")

    def failed(self, error: str, *, retry: bool = True) -> None:
        self.events.add(self.job_id, f"failed{'' if retry else ' once'}: {error}")

    def canceled(self) -> None:
        self.events.add(self.job_id, "canceled")


@pytest.fixture
def engine() -> ScriptedEngine:
    return ScriptedEngine()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def runner(engine: ScriptedEngine) -> Iterator[JobRunner]:
    runner = JobRunner(engine, max_queue=3)
    yield runner
    for gate in engine.gates.values():
        gate.set()
    runner.stop(timeout_s=5)


def job(job_id: str, events: Events, **outlet: Any) -> RunnerJob:
    request = InferenceRequest(prompt=job_id, width=64, height=64, seed=1)
    return RunnerJob(job_id=job_id, request=request, outlet=RecordingOutlet(job_id, events, **outlet))


def test_jobs_run_one_at_a_time_in_order_each_reporting_its_steps_then_its_result(runner, events):
    for name in ("a", "b", "c"):
        assert runner.submit(job(name, events)) is True
    wait_until(lambda: events.of("c")[-1:] == ["completed c"], what="the last job")
    assert events.items == [(name, what) for name in "abc" for what in ("step 1/2", "step 2/2", f"completed {name}")]


def test_a_repeated_job_is_not_queued_twice_and_a_full_queue_refuses(runner, engine, events):
    engine.gates["a"] = threading.Event()
    runner.submit(job("a", events))
    wait_until(lambda: runner.busy, what="job a to start")
    assert runner.submit(job("a", events)) is False  # running
    assert runner.submit(job("b", events)) is True
    assert runner.submit(job("b", events)) is False  # queued
    assert runner.submit(job("c", events)) is True
    assert runner.submit(job("d", events)) is True
    with pytest.raises(QueueFull, match=r"full \(3 jobs\)"):
        runner.submit(job("e", events))
    assert runner.queue_depth == 3
    engine.gates["a"].set()
    wait_until(lambda: events.of("d")[-1:] == ["completed d"], what="the queue to drain")
    assert events.of("e") == [] and events.of("b").count("completed b") == 1


def test_stopping_fails_the_waiting_jobs_at_once_and_lets_the_running_one_finish(runner, engine, events):
    engine.gates["a"] = threading.Event()
    runner.submit(job("a", events))
    wait_until(lambda: runner.busy, what="job a to start")
    runner.submit(job("b", events))
    stopping = threading.Thread(target=runner.stop)
    stopping.start()
    wait_until(lambda: events.of("b"), what="job b's failure")
    assert events.of("b") == [f"failed once: {SHUTDOWN_MESSAGE}"]
    with pytest.raises(QueueFull, match="shutting down"):
        runner.submit(job("c", events))
    engine.gates["a"].set()
    stopping.join(timeout=10)
    assert not stopping.is_alive() and events.of("a")[-1] == "completed a"


def test_a_progress_report_that_says_the_job_is_gone_stops_it_without_a_result(runner, events):
    runner.submit(job("a", events, cancel_at_step=2))
    runner.submit(job("b", events))
    wait_until(lambda: events.of("b")[-1:] == ["completed b"], what="the next job")
    assert events.of("a") == ["step 1/2", "canceled"]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (RuntimeError("CUDA error: illegal memory access"), "generation failed: RuntimeError: CUDA error: illegal memory access"),
        (InferenceError("out of memory generating 64x64"), "out of memory generating 64x64"),
    ],
)
def test_an_engine_failure_reaches_the_outlet_as_a_readable_message(runner, engine, events, error, message):
    engine.failures["a"] = error
    runner.submit(job("a", events))
    wait_until(lambda: events.of("a"), what="the failure")
    assert events.of("a") == [f"failed: {message}"]


def test_a_model_that_cannot_load_is_reported_and_fails_each_job_with_the_reason(events):
    runner = JobRunner(ScriptedEngine(load_error=InferenceError("the model folder /nowhere does not exist")))
    try:
        runner.start()
        wait_until(lambda: runner.load_error, what="the load error")
        runner.submit(job("a", events))
        wait_until(lambda: events.of("a"), what="the failure")
    finally:
        runner.stop(timeout_s=5)
    assert runner.load_error == "the model folder /nowhere does not exist"
    assert events.of("a") == ["failed: the model folder /nowhere does not exist"]
