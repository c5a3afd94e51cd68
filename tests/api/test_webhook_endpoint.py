"""POST /api/generate/webhook: signed, fresh, idempotent, and strict about transitions."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.jobs import Job
from core.jobs.service import GenerateCommand
from core.worker_contract.webhooks import WebhookPayload, WebhookSigner, generate_webhook_secret
from tests.support.apps import make_settings
from tests.support.bad_pngs import garbled_png, text_bomb_png
from tests.support.fake_worker import FakeWorker, solid_png
from tests.support.servers import LiveServer

MAX_WEBHOOK_BYTES = 32 * 1024 * 1024


@pytest.fixture
def held_worker(webhook_secret) -> Iterator[tuple[FakeWorker, str]]:
    """A worker that accepts jobs and never answers: the tests post the webhooks."""
    worker = FakeWorker(secret=webhook_secret, hold=True)
    with LiveServer(worker.app()) as server:
        yield worker, server.url


@pytest.fixture
def client(tmp_path, webhook_secret, held_worker) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, TENKAIGEN_WEBHOOK_SECRET=webhook_secret, MODAL_GENERATE_ENDPOINT=held_worker[1])
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def processing_job(client) -> Job:
    service = client.app.state.services.generation
    return service.submit("local", GenerateCommand(prompt="a red fox", style="anime", product="sticker"))


def completed(job: Job, png: bytes | None = None) -> WebhookPayload:
    image = png if png is not None else solid_png(job.width, job.height)
    return WebhookPayload(job_id=job.id, status="completed", image_base64=base64.b64encode(image).decode(), seed=5)


def post(client: TestClient, payload: WebhookPayload, secret: str, **header_overrides: str):
    body, headers = WebhookSigner(secret).signed_body(payload)
    headers.update(header_overrides)
    return client.post("/api/generate/webhook", content=body, headers=headers)


def stored_objects(client: TestClient) -> int:
    return client.app.state.services.generation.objects.usage().objects


def test_the_dispatch_reached_the_worker_and_the_job_is_processing(client, processing_job, held_worker):
    worker, _ = held_worker
    assert processing_job.status == "processing"
    assert worker.received[0]["job_id"] == processing_job.id
    assert worker.received[0]["webhook_url"].endswith("/api/generate/webhook")


def test_a_completed_webhook_stores_the_png_and_completes_the_job(client, processing_job, webhook_secret):
    response = post(client, completed(processing_job), webhook_secret)
    assert response.status_code == 200 and response.json()["result"] == "applied"
    status = client.get(f"/api/generate/status/{processing_job.id}").json()
    assert status["status"] == "completed" and status["seed"] == 5
    assert status["image_url"].endswith(f"/ai-generated/local/{processing_job.id}.png")
    assert client.get(status["image_url"]).content == solid_png(processing_job.width, processing_job.height)


def test_a_duplicate_delivery_changes_nothing_and_stores_nothing_twice(client, processing_job, webhook_secret):
    payload = completed(processing_job)
    body, headers = WebhookSigner(webhook_secret).signed_body(payload)
    first = client.post("/api/generate/webhook", content=body, headers=headers)
    before = client.get(f"/api/generate/status/{processing_job.id}").json()
    second = client.post("/api/generate/webhook", content=body, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["result"] == "already applied"
    assert client.get(f"/api/generate/status/{processing_job.id}").json() == before
    assert stored_objects(client) == 1


def test_a_failed_webhook_marks_the_job_failed_with_the_error(client, processing_job, webhook_secret):
    payload = WebhookPayload(job_id=processing_job.id, status="failed", error="CUDA out of memory")
    assert post(client, payload, webhook_secret).status_code == 200
    status = client.get(f"/api/generate/status/{processing_job.id}").json()
    assert (status["status"], status["error"]) == ("failed", "CUDA out of memory")
    assert stored_objects(client) == 0


def test_a_forged_webhook_is_401_and_changes_nothing(client, processing_job):
    response = post(client, completed(processing_job), generate_webhook_secret())
    assert response.status_code == 401
    assert client.get(f"/api/generate/status/{processing_job.id}").json()["status"] == "processing"
    assert stored_objects(client) == 0


def test_a_stale_webhook_is_401(client, processing_job, webhook_secret):
    payload = completed(processing_job)
    body = payload.model_dump_json(exclude_none=True).encode()
    headers = WebhookSigner(webhook_secret).headers(body, timestamp=datetime.now(UTC) - timedelta(minutes=6))
    response = client.post("/api/generate/webhook", content=body, headers=headers)
    assert response.status_code == 401 and "too old" in response.json()["detail"]


def test_an_unsigned_webhook_is_401(client, processing_job):
    body = completed(processing_job).model_dump_json().encode()
    assert client.post("/api/generate/webhook", content=body).status_code == 401


def test_a_webhook_for_an_unknown_job_is_404(client, webhook_secret):
    payload = WebhookPayload(job_id="00000000-0000-4000-8000-000000000000", status="failed", error="x")
    assert post(client, payload, webhook_secret).status_code == 404


def test_a_result_for_a_finished_job_of_another_outcome_is_409(client, processing_job, webhook_secret):
    post(client, WebhookPayload(job_id=processing_job.id, status="failed", error="boom"), webhook_secret)
    response = post(client, completed(processing_job), webhook_secret)
    assert response.status_code == 409
    assert client.get(f"/api/generate/status/{processing_job.id}").json()["status"] == "failed"
    assert stored_objects(client) == 0


def test_a_result_for_a_canceled_job_is_409_and_stores_nothing(client, processing_job, webhook_secret):
    client.post(f"/api/generate/{processing_job.id}/cancel")
    assert post(client, completed(processing_job), webhook_secret).status_code == 409
    assert stored_objects(client) == 0


BAD_IMAGES = {
    "not-png": lambda job: b"GIF89a not a png",
    "truncated-png": lambda job: b"\x89PNG\r\n\x1a\n truncated",
    "garbled-pixels": lambda job: garbled_png(job.width, job.height),
    "text-bomb": lambda job: text_bomb_png(job.width, job.height),
    "wrong-size": lambda job: solid_png(64, 64),
}


@pytest.mark.parametrize("make_image", BAD_IMAGES.values(), ids=BAD_IMAGES.keys())
def test_a_completed_webhook_without_a_valid_png_is_422_and_fails_the_job_with_the_reason(client, processing_job, webhook_secret, make_image):
    # the worker treats a 4xx as final: nothing else will come for this job, so it ends now
    response = post(client, completed(processing_job, png=make_image(processing_job)), webhook_secret)
    assert response.status_code == 422
    status = client.get(f"/api/generate/status/{processing_job.id}").json()
    assert status["status"] == "failed" and status["error"].startswith("the generated image was refused: ")
    assert stored_objects(client) == 0


def test_an_oversized_webhook_body_is_413(client, processing_job, webhook_secret):
    body = b"{" + b" " * (MAX_WEBHOOK_BYTES + 1) + b"}"
    headers = WebhookSigner(webhook_secret).headers(body)
    assert client.post("/api/generate/webhook", content=body, headers=headers).status_code == 413


def test_progress_events_show_in_the_status(client, processing_job, webhook_secret):
    payload = WebhookPayload(job_id=processing_job.id, status="processing", progress={"step": 3, "total": 8})
    assert post(client, payload, webhook_secret).status_code == 200
    assert client.get(f"/api/generate/status/{processing_job.id}").json()["progress"] == {"step": 3, "total": 8}


def test_progress_for_a_canceled_job_is_409_so_the_worker_can_stop(client, processing_job, webhook_secret):
    client.post(f"/api/generate/{processing_job.id}/cancel")
    payload = WebhookPayload(job_id=processing_job.id, status="processing", progress={"step": 1, "total": 8})
    assert post(client, payload, webhook_secret).status_code == 409
