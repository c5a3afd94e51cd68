"""Webhooks as a hostile or unreliable network delivers them: twice, out of order,
replayed, forged; images that are not what the job asked for."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.jobs import Job
from core.jobs.service import GenerateCommand
from core.worker_contract.webhooks import WebhookPayload, WebhookSigner, generate_webhook_secret
from tests.support.apps import make_settings
from tests.support.fake_worker import FakeWorker, solid_png
from tests.support.servers import LiveServer


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk declaring width x height, and no pixel data at all."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + chunk + end


@pytest.fixture
def client(tmp_path, webhook_secret) -> Iterator[TestClient]:
    worker = FakeWorker(secret=webhook_secret, hold=True)
    with LiveServer(worker.app()) as server:
        settings = make_settings(tmp_path, TENKAIGEN_WEBHOOK_SECRET=webhook_secret, MODAL_GENERATE_ENDPOINT=server.url)
        with TestClient(create_app(settings)) as test_client:
            yield test_client


@pytest.fixture
def job(client) -> Job:
    return client.app.state.services.generation.submit("local", GenerateCommand(prompt="a fox", style="anime", product="sticker"))


def signed(secret: str, payload: WebhookPayload) -> tuple[bytes, dict[str, str]]:
    return WebhookSigner(secret).signed_body(payload)


def completed(job: Job, png: bytes | None = None) -> WebhookPayload:
    image = png if png is not None else solid_png(job.width, job.height)
    return WebhookPayload(job_id=job.id, status="completed", image_base64=base64.b64encode(image).decode())


def status(client: TestClient, job: Job) -> dict:
    return client.get(f"/api/generate/status/{job.id}").json()


def objects(client: TestClient) -> int:
    return client.app.state.services.generation.objects.usage().objects


def hook(client: TestClient, body: bytes, headers: dict[str, str]):
    return client.post("/api/generate/webhook", content=body, headers=headers)


def test_a_failed_result_after_completion_is_refused_and_the_job_stays_completed(client, job, webhook_secret):
    assert hook(client, *signed(webhook_secret, completed(job))).status_code == 200
    late = hook(client, *signed(webhook_secret, WebhookPayload(job_id=job.id, status="failed", error="OOM")))
    assert late.status_code == 409
    assert status(client, job)["status"] == "completed" and status(client, job)["error"] is None
    assert objects(client) == 1


def test_progress_after_completion_is_409_and_changes_nothing(client, job, webhook_secret):
    hook(client, *signed(webhook_secret, completed(job)))
    before = status(client, job)
    progress = WebhookPayload(job_id=job.id, status="processing", progress={"step": 2, "total": 8})
    assert hook(client, *signed(webhook_secret, progress)).status_code == 409
    assert status(client, job) == before


def test_a_replayed_delivery_is_applied_once(client, job, webhook_secret):
    body, headers = signed(webhook_secret, completed(job))
    results = [hook(client, body, headers).json()["result"] for _ in range(3)]
    assert results == ["applied", "already applied", "already applied"]
    assert objects(client) == 1


def test_a_forged_signature_and_a_body_swapped_under_a_valid_signature_are_401(client, job, webhook_secret):
    forged = signed(generate_webhook_secret(), completed(job))
    assert hook(client, *forged).status_code == 401
    _, headers = signed(webhook_secret, WebhookPayload(job_id=job.id, status="failed", error="x"))
    swapped_body, _ = signed(webhook_secret, completed(job))
    assert hook(client, swapped_body, headers).status_code == 401
    assert status(client, job)["status"] == "processing" and objects(client) == 0


def test_a_giant_declared_size_is_refused_without_decoding(client, job, webhook_secret):
    response = hook(client, *signed(webhook_secret, completed(job, png_header_only(100_000, 100_000))))
    assert response.status_code == 422
    assert "100000x100000" in response.json()["detail"] or "decompression" in response.json()["detail"].lower()
    # the worker does not retry a 4xx: the job ends failed with the reason at once
    assert status(client, job)["status"] == "failed" and objects(client) == 0


def test_an_image_of_another_size_than_the_job_is_422_and_fails_the_job(client, job, webhook_secret):
    response = hook(client, *signed(webhook_secret, completed(job, solid_png(64, 64))))
    assert response.status_code == 422
    assert f"image is 64x64 but the job asked for {job.width}x{job.height}" in response.json()["detail"]
    assert status(client, job)["error"] == f"the generated image was refused: image is 64x64 but the job asked for {job.width}x{job.height}"


def test_an_image_rounded_to_the_model_grid_is_accepted(client, job, webhook_secret):
    rounded = solid_png(job.width - job.width % 16, job.height - job.height % 16 + 16)
    assert hook(client, *signed(webhook_secret, completed(job, rounded))).status_code == 200


@pytest.mark.parametrize(
    "prompt",
    [
        "a fox'); DROP TABLE generation_jobs; --",
        "<script>alert('x')</script> <img src=x onerror=alert(1)>",
        "Robert\"); DELETE FROM tenkaigen_users WHERE ('1'='1",
    ],
    ids=["sql", "html", "sql-quotes"],
)
def test_injection_in_prompts_is_stored_and_returned_verbatim(client, prompt):
    job_id = client.post("/api/generate", json={"prompt": prompt, "style": "anime", "product": "mug"}).json()["job_id"]
    assert client.get(f"/api/generate/status/{job_id}").json()["prompt"] == prompt
    assert client.get("/api/generate/jobs").json()["jobs"][0]["prompt"] == prompt
    assert client.app.state.services.generation.jobs.get(job_id).prompt == prompt


def test_both_stores_keep_an_injection_prompt_verbatim_and_intact(job_store):
    from tests.jobs.test_job_stores import new_job

    prompt = "x'); DROP TABLE generation_jobs; -- <b>bold</b> %s %(user)s ?"
    job = job_store.create(new_job(prompt=prompt))
    assert job_store.get(job.id).prompt == prompt
    assert [j.prompt for j in job_store.list_for_user("alice")] == [prompt]
