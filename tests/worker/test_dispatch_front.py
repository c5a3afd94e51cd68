"""The Modal front door offline: signed dispatches are queued with `spawn` and answered 202 at
once, a job id runs once however often it is dispatched, and a cancel reaches the job's call.
Modal is the fake queue of `modal_fakes`; the GPU side runs the real method body on the tiny
pipeline, and the app's side is the real RemoteWorkerDispatcher."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from core.generators import GenerationRequest, RemoteWorkerDispatcher
from core.parsing.models import ParsedPrompt
from core.worker_contract.webhooks import SignedRequestAuth, generate_webhook_secret
from modal_app.dispatch_front import InMemoryJobCalls, QueueStats, WorkerProfile, create_dispatch_app
from modal_app.webhook_delivery import WebhookSender
from tests.support.servers import LiveServer, wait_until
from tests.worker.modal_fakes import FakeModalQueue
from tests.worker.receiver import WebhookReceiver

NO_WAIT = (0.0, 0.0, 0.0, 0.0, 0.0)
LIGHTNING_PROFILE = WorkerProfile(model="qwen-image-lightning-8step", steps=8, lightning=8)


@contextmanager
def front(secret: str, spawn: Any, cancel: Any, calls: Any = None, **options: Any) -> Iterator[tuple[httpx.Client, str]]:
    app = create_dispatch_app(secret, spawn=spawn, cancel=cancel, calls=calls or InMemoryJobCalls(),
                              profile=options.pop("profile", LIGHTNING_PROFILE), **options)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10, auth=SignedRequestAuth(secret)) as http:
        yield http, server.url


def job_body(hook: str | None = "http://127.0.0.1:9/hook", **changes: Any) -> dict[str, Any]:
    body = {"job_id": uuid.uuid4().hex, "prompt": "a red fox in the snow", "negative_prompt": "blurry",
            "width": 64, "height": 64, "seed": 7, "steps": 3, "webhook_url": hook}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def generation_request(job_id: str, hook: str, steps: int = 50) -> GenerationRequest:
    brief = ParsedPrompt(
        subject="fox", style="anime", colors=[], mood="", composition="", product="mug", aspect_ratio="1:1",
        width=64, height=64, prompt="a red fox", negative_prompt="", parser="local",
    )
    return GenerationRequest(job_id=job_id, user_id="u", prompt="a red fox", negative_prompt="", width=64, height=64,
                             seed=3, steps=steps, webhook_url=hook, brief=brief)


class RecordingSpawn:
    def __init__(self, fail: int = 0) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.canceled: list[str] = []
        self.fail = fail

    def spawn(self, payload: dict[str, Any]) -> str:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("modal is unreachable")
        self.payloads.append(payload)
        return f"fc-{len(self.payloads)}"

    def cancel(self, call_id: str) -> None:
        self.canceled.append(call_id)


# --- the front alone (fast) ------------------------------------------------------------------
def test_the_answer_says_whether_a_gpu_is_starting_and_how_many_jobs_are_ahead(webhook_secret):
    modal = RecordingSpawn()
    stats = iter([QueueStats(backlog=1, runners=0), QueueStats(backlog=4, runners=2)])
    with front(webhook_secret, modal.spawn, modal.cancel, gpu_stats=lambda: next(stats)) as (http, _):
        cold = http.post("/generate", json=job_body()).json()
        busy = http.post("/generate", json=job_body()).json()
    assert (cold["gpu"], cold["ahead"], cold["queue_depth"]) == ("starting", 0, 1)
    assert (busy["gpu"], busy["ahead"], busy["queue_depth"]) == ("warm", 3, 4)


def test_stats_that_fail_or_do_not_come_in_time_leave_the_answer_without_them(webhook_secret):
    modal = RecordingSpawn()
    release = threading.Event()

    def broken() -> QueueStats:
        raise ConnectionError("modal is unreachable")

    def stuck() -> QueueStats:
        release.wait(10)
        return QueueStats(backlog=1, runners=1)

    try:
        with front(webhook_secret, modal.spawn, modal.cancel, gpu_stats=broken) as (http, _):
            failed = http.post("/generate", json=job_body())
        with front(webhook_secret, modal.spawn, modal.cancel, gpu_stats=stuck, gpu_stats_timeout_s=0.05) as (http, _):
            slow = http.post("/generate", json=job_body())
    finally:
        release.set()
    for answer in (failed, slow):
        assert answer.status_code == 202
        assert (answer.json()["status"], answer.json()["gpu"], answer.json()["ahead"]) == ("accepted", None, None)
    assert len(modal.payloads) == 2  # queued all the same


def test_a_dispatch_repeated_three_times_is_spawned_once(webhook_secret):
    modal = RecordingSpawn()
    body = job_body()
    with front(webhook_secret, modal.spawn, modal.cancel) as (http, _):
        answers = [http.post("/generate", json=body) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.json()["status"] for a in answers] == ["accepted", "already accepted", "already accepted"]
    assert [p["job_id"] for p in modal.payloads] == [body["job_id"]]


def test_a_spawn_that_fails_answers_503_and_the_apps_retry_queues_the_job(webhook_secret):
    modal = RecordingSpawn(fail=1)
    body = job_body()
    with front(webhook_secret, modal.spawn, modal.cancel) as (http, _):
        first = http.post("/generate", json=body)
        second = http.post("/generate", json=body)
    assert (first.status_code, second.status_code) == (503, 202)
    assert second.json()["status"] == "accepted" and len(modal.payloads) == 1


def test_an_unsigned_or_forged_dispatch_or_cancel_is_401_and_spawns_nothing(webhook_secret):
    modal = RecordingSpawn()
    with front(webhook_secret, modal.spawn, modal.cancel) as (http, url):
        unsigned = httpx.post(url + "/generate", json=job_body(), timeout=10)
        forged = httpx.post(url + "/generate", json=job_body(), timeout=10, auth=SignedRequestAuth(generate_webhook_secret()))
        cancel = httpx.post(url + "/cancel", json={"job_id": "x"}, timeout=10)
    assert (unsigned.status_code, forged.status_code, cancel.status_code) == (401, 401, 401)
    assert modal.payloads == [] and modal.canceled == []


def test_the_spawned_job_carries_the_configured_webhook_and_another_is_422(webhook_secret):
    modal = RecordingSpawn()
    hook = "http://127.0.0.1:9/api/generate/webhook"
    with front(webhook_secret, modal.spawn, modal.cancel, allowed_webhook_url=hook) as (http, _):
        without = http.post("/generate", json=job_body(hook=None))
        other = http.post("/generate", json=job_body(hook="http://evil.example/hook"))
    assert (without.status_code, other.status_code) == (202, 422)
    assert [p["webhook_url"] for p in modal.payloads] == [hook]


def test_a_cancel_reaches_the_jobs_call_and_an_unknown_job_is_said_so(webhook_secret):
    modal = RecordingSpawn()
    body = job_body()
    with front(webhook_secret, modal.spawn, modal.cancel) as (http, _):
        http.post("/generate", json=body)
        known = http.post("/cancel", json={"job_id": body["job_id"]})
        unknown = http.post("/cancel", json={"job_id": "never-dispatched"})
    assert known.status_code == 202 and known.json() == {"job_id": body["job_id"], "status": "canceling"}
    assert unknown.json()["status"] == "unknown"
    assert modal.canceled == ["fc-1"]


def test_health_says_what_a_job_runs_with_and_the_dispatcher_asks_a_lightning_worker_for_its_steps(webhook_secret):
    modal = RecordingSpawn()
    with front(webhook_secret, modal.spawn, modal.cancel) as (http, url):
        health = http.get("/health").json()
        dispatcher = RemoteWorkerDispatcher(url, webhook_secret, timeout_s=5, max_attempts=1)
        dispatcher.submit(generation_request("job-1", "http://127.0.0.1:9/hook", steps=50), sink=None)
        dispatcher.submit(generation_request("job-2", "http://127.0.0.1:9/hook", steps=50), sink=None)
        dispatcher.close()
    assert (health["status"], health["steps"], health["lightning"]) == ("ok", 8, 8)
    assert [p["steps"] for p in modal.payloads] == [8, 8]
    assert dispatcher.worker_health is not None and dispatcher.worker_health.steps == 8


def test_a_worker_without_health_still_gets_the_job_with_the_apps_steps(webhook_secret):
    from tests.support.flaky_worker import FlakyWorker

    flaky = FlakyWorker(secret=webhook_secret, plan=["hold"])
    with LiveServer(flaky) as server:
        dispatcher = RemoteWorkerDispatcher(server.url, webhook_secret, timeout_s=5, max_attempts=1)
        dispatcher.submit(generation_request("job-1", "http://127.0.0.1:9/hook", steps=50), sink=None)
        dispatcher.close()
    assert dispatcher.worker_health is None
    assert [b["steps"] for b in flaky.received] == [50]


# --- with the GPU side on the tiny pipeline (slow) --------------------------------------------
@pytest.fixture
def queue(tiny_engine, webhook_secret, receiver) -> Iterator[FakeModalQueue]:
    sender = WebhookSender(webhook_secret, timeout_s=5, backoff_s=NO_WAIT)
    fake = FakeModalQueue(tiny_engine, sender)
    yield fake
    fake.gpu_ready.set()
    for engine in fake.engines.values():
        engine.step_gate.set()
    fake.join()
    sender.close()


@pytest.mark.slow
def test_a_cold_gpu_does_not_hold_the_dispatch_and_the_job_completes_once_it_is_warm(webhook_secret, receiver, queue):
    # the GPU takes as long as it likes to load (the gate stays closed): the app's first
    # dispatch is answered at once, with no retry, and the job runs when the GPU is ready
    sleeps: list[float] = []
    with front(webhook_secret, queue.spawn, queue.cancel) as (_, url):
        dispatcher = RemoteWorkerDispatcher(url, webhook_secret, timeout_s=2, max_attempts=4, sleep=sleeps.append)
        dispatcher.submit(generation_request("cold-1", receiver.url, steps=3), sink=None)
        assert sleeps == [] and receiver.attempts == []
        queue.gpu_ready.set()
        result = wait_until(receiver.delivered_result, timeout_s=60, what="the result webhook")
        dispatcher.close()
    assert result.job_id == "cold-1" and result.status == "completed"
    first = receiver.progress()[0].payload
    assert first.progress is not None and (first.progress.step, first.progress.total) == (0, 8)


@pytest.mark.slow
def test_three_dispatches_of_one_job_run_it_once(webhook_secret, receiver, queue):
    queue.gpu_ready.set()
    body = job_body(hook=receiver.url)
    with front(webhook_secret, queue.spawn, queue.cancel) as (http, _):
        for _ in range(3):
            assert http.post("/generate", json=body).status_code == 202
        wait_until(receiver.delivered_result, timeout_s=60, what="the result webhook")
        queue.join()
    assert len(queue.spawned) == 1 and len(receiver.results()) == 1


@pytest.mark.slow
def test_a_cancel_from_the_app_stops_the_running_job_without_a_result(webhook_secret, receiver, queue):
    queue.gpu_ready.set()
    queue.hold_steps = True
    with front(webhook_secret, queue.spawn, queue.cancel) as (_, url):
        dispatcher = RemoteWorkerDispatcher(url, webhook_secret, timeout_s=5, max_attempts=1)
        dispatcher.submit(generation_request("run-1", receiver.url, steps=3), sink=None)
        engine = queue.engines["fc-1"]
        assert engine.first_step.wait(timeout=60), "the job never started"
        dispatcher.cancel("run-1")
        engine.step_gate.set()
        queue.join()
        dispatcher.close()
    assert queue.canceled_calls == ["fc-1"] and queue.finished == {"fc-1": False}
    assert receiver.results() == []
