"""The worker app under uvicorn on loopback: 202 at once, one job at a time, signed webhooks out."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from PIL import Image

from core.worker_contract.engine import InferenceRequest, InferenceResult, ProgressCallback
from modal_app.engine_config import EngineConfig
from modal_app.inference import QwenImageEngine
from modal_app.inference_errors import InferenceOutOfMemory
from core.worker_contract.webhooks import SignedRequestAuth, generate_webhook_secret
from modal_app.worker_app import create_worker_app
from tests.support.servers import LiveServer, wait_until
from tests.worker.engines import FailingEngine, GatedEngine
from tests.worker.receiver import WebhookReceiver

pytestmark = pytest.mark.slow

NO_WAIT = (0.0, 0.0, 0.0, 0.0, 0.0)


@contextmanager
def running_worker(engine: Any, secret: str, **options: Any) -> Iterator[tuple[httpx.Client, Any]]:
    options.setdefault("backoff_s", NO_WAIT)
    app = create_worker_app(engine, secret, **options)
    signed = SignedRequestAuth(secret)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10, auth=signed) as http:
        yield http, app.state.worker


def job_body(hook: str | None, **changes: Any) -> dict[str, Any]:
    body = {"job_id": uuid.uuid4().hex, "prompt": "a red fox in the snow", "negative_prompt": "blurry",
            "width": 64, "height": 64, "seed": 7, "steps": 3, "webhook_url": hook}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def result_of(receiver: WebhookReceiver, timeout_s: float = 30):
    return wait_until(receiver.delivered_result, timeout_s=timeout_s, what="the result webhook")


def test_a_job_is_accepted_at_once_then_progress_and_the_signed_png_arrive(tiny_engine, webhook_secret, receiver):
    with running_worker(tiny_engine, webhook_secret) as (http, _):
        body = job_body(receiver.url)
        answer = http.post("/generate", json=body)
        assert answer.status_code == 202 and answer.json()["status"] == "accepted"
        result = result_of(receiver)
    assert (result.job_id, result.status, result.seed) == (body["job_id"], "completed", 7)
    with Image.open(io.BytesIO(result.image_bytes())) as image:
        assert (image.format, image.size) == ("PNG", (64, 64))
    assert {"text_encoding_s", "denoising_s", "vae_decode_s", "total_s"} <= set(result.timings or {})
    # the worker's PNG is the engine's PNG for the same request: nothing lost on the way
    same = tiny_engine.generate(InferenceRequest(prompt=body["prompt"], negative_prompt="blurry", width=64,
                                                 height=64, seed=7, steps=3))
    assert result.image_bytes() == same.png
    progress = [(a.payload.progress.step, a.payload.progress.total) for a in receiver.progress()]
    assert progress and all(total == 3 for _, total in progress)
    assert [step for step, _ in progress] == sorted({step for step, _ in progress})
    assert receiver.attempts[-1].payload.status == "completed"  # no progress after the result
    assert receiver.rejected_signatures == 0


@pytest.mark.parametrize(
    "change",
    [
        {"prompt": ""},
        {"prompt": None},
        {"width": "wide"},
        {"height": 0},
        {"seed": -1},
        {"steps": 0},
        {"steps": 500},
        {"job_id": "has spaces"},
        {"webhook_url": "ftp://example.com/hook"},
        {"true_cfg_scale": 0.5},
    ],
    ids=lambda change: ",".join(f"{k}={v}" for k, v in change.items()),
)
def test_bad_requests_get_422_and_nothing_is_queued(tiny_engine, webhook_secret, receiver, change):
    with running_worker(tiny_engine, webhook_secret) as (http, worker):
        answer = http.post("/generate", json=job_body(receiver.url, **change))
        assert answer.status_code == 422, answer.text
        assert worker.queue_depth == 0 and not worker.busy
    assert receiver.attempts == []


def test_a_job_without_a_webhook_needs_one_configured(tiny_engine, webhook_secret):
    with running_worker(tiny_engine, webhook_secret) as (http, _):
        answer = http.post("/generate", json=job_body(None))
    assert answer.status_code == 422 and "webhook_url is required" in answer.text


def test_a_configured_webhook_is_the_only_one_the_worker_posts_to(tiny_engine, webhook_secret, receiver):
    with running_worker(tiny_engine, webhook_secret, allowed_webhook_url=receiver.url) as (http, _):
        foreign = http.post("/generate", json=job_body("http://127.0.0.1:9/elsewhere"))
        assert foreign.status_code == 422 and "TENKAIGEN_WEBHOOK_URL" in foreign.text
        assert http.post("/generate", json=job_body(None)).status_code == 202
        assert result_of(receiver).status == "completed"


def test_a_placeholder_secret_is_refused_at_start(tiny_engine):
    with pytest.raises(ValueError, match="TENKAIGEN_WEBHOOK_SECRET"):
        create_worker_app(tiny_engine, "changeme")


def test_an_impossible_size_ends_in_a_failed_webhook_naming_the_parameter(tiny_engine, webhook_secret, receiver):
    with running_worker(tiny_engine, webhook_secret) as (http, _):
        assert http.post("/generate", json=job_body(receiver.url, width=72)).status_code == 202
        result = result_of(receiver)
    assert result.status == "failed" and result.image_base64 is None
    assert result.error == "`width` must be a multiple of 16 between 64 and 2048, got 72"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (RuntimeError("CUDA error: an illegal memory access was encountered"),
         "generation failed: RuntimeError: CUDA error: an illegal memory access was encountered"),
        (InferenceOutOfMemory("out of memory generating 1328x1328: CUDA out of memory"),
         "out of memory generating 1328x1328: CUDA out of memory"),
    ],
)
def test_an_engine_error_ends_in_a_failed_webhook_with_a_readable_message(webhook_secret, receiver, error, message):
    with running_worker(FailingEngine(error), webhook_secret) as (http, _):
        assert http.post("/generate", json=job_body(receiver.url)).status_code == 202
        result = result_of(receiver)
    assert (result.status, result.error) == ("failed", message)


def test_a_worker_whose_model_cannot_load_says_so_and_fails_each_job_with_the_reason(tmp_path, webhook_secret, receiver):
    engine = QwenImageEngine(EngineConfig(model="Qwen/Qwen-Image", cache_dir=tmp_path / "empty"))
    with running_worker(engine, webhook_secret) as (http, _):
        health = wait_until(lambda: (h := http.get("/health").json())["status"] != "loading" and h, what="load attempt")
        assert (health["status"], health["model_loaded"]) == ("error", False)
        assert "hf download Qwen/Qwen-Image" in health["load_error"]
        assert http.post("/generate", json=job_body(receiver.url)).status_code == 202
        result = result_of(receiver)
    assert result.status == "failed" and "are not in" in result.error and "hf download" in result.error


def test_jobs_run_one_at_a_time_and_health_shows_the_queue(tiny_engine, webhook_secret, receiver):
    gated = GatedEngine(tiny_engine)
    with running_worker(gated, webhook_secret) as (http, worker):
        ids = [http.post("/generate", json=job_body(receiver.url, seed=seed)).json()["job_id"] for seed in (1, 2, 3)]
        assert gated.started.acquire(timeout=10)
        health = wait_until(lambda: (h := http.get("/health").json())["queue_depth"] == 2 and h, what="queue of 2")
        assert (health["status"], health["model_loaded"], health["busy"]) == ("ok", True, True)
        fourth = http.post("/generate", json=job_body(receiver.url, seed=4)).json()
        assert (fourth["gpu"], fourth["ahead"]) == ("warm", 3)  # the running job and the two waiting
        gated.release.set()
        wait_until(lambda: len([a for a in receiver.results() if a.answered == 200]) == 4, what="four results")
        idle = http.get("/health").json()
    assert gated.most_at_once == 1
    assert [a.payload.job_id for a in receiver.results()] == [*ids, fourth["job_id"]]  # in the order they came
    assert (idle["queue_depth"], idle["busy"]) == (0, False)


def test_a_repeated_dispatch_of_a_waiting_job_is_accepted_once(tiny_engine, webhook_secret, receiver):
    gated = GatedEngine(tiny_engine)
    with running_worker(gated, webhook_secret) as (http, worker):
        body = job_body(receiver.url)
        assert http.post("/generate", json=body).json()["status"] == "accepted"
        assert http.post("/generate", json=body).json()["status"] == "already accepted"
        gated.release.set()
        result_of(receiver)
        wait_until(lambda: not worker.busy and worker.queue_depth == 0, what="an idle worker")
    assert len(receiver.results()) == 1


def test_a_full_queue_answers_503(tiny_engine, webhook_secret, receiver):
    gated = GatedEngine(tiny_engine)
    with running_worker(gated, webhook_secret, max_queue=1) as (http, _):
        assert http.post("/generate", json=job_body(receiver.url)).status_code == 202
        assert gated.started.acquire(timeout=10)  # the first is running, the queue is empty
        assert http.post("/generate", json=job_body(receiver.url)).status_code == 202
        full = http.post("/generate", json=job_body(receiver.url))
        gated.release.set()
    assert full.status_code == 503 and "queue is full" in full.text


def test_a_webhook_that_fails_twice_then_succeeds_still_gets_the_result(tiny_engine, webhook_secret, receiver):
    receiver.final_answers = [503, 503]
    with running_worker(tiny_engine, webhook_secret) as (http, worker):
        job_id = http.post("/generate", json=job_body(receiver.url)).json()["job_id"]
        result = result_of(receiver)
        wait_until(lambda: worker.last_delivery is not None, what="the delivery report")
    tries = receiver.results()
    assert [a.answered for a in tries] == [503, 503, 200]
    assert len({a.webhook_id for a in tries}) == 1  # one message, delivered on its third try
    assert result.job_id == job_id and result.status == "completed"
    assert (worker.last_delivery.outcome, worker.last_delivery.attempts) == ("delivered", 3)


class CountingEngine:
    """Reports steps until the progress webhook's 409 cancels it (or a deadline passes)."""

    model_name = "counting-engine"
    is_loaded = True

    def __init__(self) -> None:
        self.steps_reported = 0

    def load(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {}

    def generate(self, request: InferenceRequest, on_progress: ProgressCallback | None = None) -> InferenceResult:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.steps_reported += 1
            on_progress(self.steps_reported, 10**9)  # raises GenerationCanceled once the app said 409
        raise AssertionError("the 409 never canceled the job")


def test_a_progress_webhook_answered_409_stops_the_job_without_a_result(webhook_secret, receiver):
    receiver.progress_answer = 409
    engine = CountingEngine()
    with running_worker(engine, webhook_secret) as (http, worker):
        assert http.post("/generate", json=job_body(receiver.url)).status_code == 202
        wait_until(lambda: receiver.progress(), what="a progress webhook")
        wait_until(lambda: not worker.busy and worker.queue_depth == 0, what="the job to stop")
    assert receiver.results() == []
    assert worker.last_delivery is None


def test_a_cancel_drops_a_waiting_job_and_stops_the_running_one_at_its_next_step(tiny_engine, webhook_secret, receiver):
    gated = GatedEngine(tiny_engine)
    with running_worker(gated, webhook_secret) as (http, worker):
        running, waiting = (job_body(receiver.url, seed=seed) for seed in (1, 2))
        assert http.post("/generate", json=running).status_code == 202
        assert gated.started.acquire(timeout=10)  # the first job holds the GPU
        assert http.post("/generate", json=waiting).status_code == 202
        answers = [http.post("/cancel", json={"job_id": job_id}).json()["status"]
                   for job_id in (waiting["job_id"], running["job_id"], "not-here")]
        unsigned = httpx.post(f"{http.base_url}/cancel", json={"job_id": running["job_id"]}, timeout=10)
        gated.release.set()
        wait_until(lambda: not worker.busy and worker.queue_depth == 0, what="an idle worker")
        wait_until(lambda: receiver.progress(), what="the stopped job's report of its GPU time")
    assert answers == ["canceling", "canceling", "unknown"] and unsigned.status_code == 401
    assert gated.most_at_once == 1 and gated.started.acquire(timeout=0) is False  # the waiting job never started
    assert receiver.results() == []  # no result for either
    reports = receiver.progress()
    assert [r.payload.job_id for r in reports] == [running["job_id"]]  # stopped before its first step's report
    assert reports[0].payload.progress is None and reports[0].payload.gpu_seconds is not None  # only its GPU time


def test_an_unsigned_or_forged_dispatch_is_401_and_runs_nothing(tiny_engine, webhook_secret, receiver):
    with running_worker(tiny_engine, webhook_secret) as (http, worker):
        body = job_body(receiver.url)
        unsigned = httpx.post(f"{http.base_url}/generate", json=body, timeout=10)
        forged = httpx.post(f"{http.base_url}/generate", json=body, timeout=10, auth=SignedRequestAuth(generate_webhook_secret()))
        assert (unsigned.status_code, forged.status_code) == (401, 401)
        assert worker.queue_depth == 0 and not worker.busy
    assert receiver.delivered_result() is None
