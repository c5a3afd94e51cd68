"""Results straight to the bucket: the dispatch carries a presigned PUT, the worker uploads the PNG
itself, and its small signed webhook is checked against the stored object before the job completes.

The app runs with moto's S3 server on loopback; a held worker records the dispatches, and the
tests play the worker: a real PUT to the presigned URL, then the signed webhook.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.jobs import Job
from core.jobs.service import GenerateCommand
from core.worker_contract.messages import MAX_DIRECT_WEBHOOK_BYTES, UploadedImage, WebhookPayload
from core.worker_contract.webhooks import WebhookSigner
from tests.support.apps import make_settings, s3_settings
from tests.support.fake_worker import FakeWorker, solid_png
from tests.support.servers import LiveServer


@pytest.fixture
def held_worker(webhook_secret) -> Iterator[tuple[FakeWorker, str]]:
    worker = FakeWorker(secret=webhook_secret, hold=True)
    with LiveServer(worker.app()) as server:
        yield worker, server.url


def app_client(tmp_path, webhook_secret, worker_url: str, **settings: Any) -> TestClient:
    return TestClient(create_app(make_settings(
        tmp_path, TENKAIGEN_WEBHOOK_SECRET=webhook_secret, MODAL_GENERATE_ENDPOINT=worker_url, **settings)))


@pytest.fixture
def bucket_client(tmp_path, webhook_secret, held_worker, s3_endpoint, s3_bucket) -> Iterator[TestClient]:
    with app_client(tmp_path, webhook_secret, held_worker[1], **s3_settings(s3_endpoint, s3_bucket)) as client:
        yield client


def submit(client: TestClient) -> Job:
    return client.app.state.services.generation.submit(
        "local", GenerateCommand(prompt="a red fox", style="anime", product="sticker"))


def post(client: TestClient, payload: WebhookPayload, secret: str) -> httpx.Response:
    body, headers = WebhookSigner(secret).signed_body(payload)
    return client.post("/api/generate/webhook", content=body, headers=headers)


def put(upload: dict[str, Any], data: bytes) -> httpx.Response:
    assert upload["method"] == "PUT"
    return httpx.put(upload["url"], content=data, headers=upload["headers"], timeout=10)


def uploaded(job: Job, data: bytes, **extra: Any) -> WebhookPayload:
    receipt = UploadedImage(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    return WebhookPayload(job_id=job.id, status="completed", image=receipt, seed=5, **extra)


def status_of(client: TestClient, job: Job) -> dict[str, Any]:
    return client.get(f"/api/generate/status/{job.id}").json()


@pytest.mark.slow
def test_a_png_put_to_the_presigned_url_and_a_small_webhook_complete_the_job(
    bucket_client, held_worker, webhook_secret, s3_endpoint, s3_bucket
):
    job = submit(bucket_client)
    upload = held_worker[0].received[0]["upload"]
    assert upload["headers"] == {"Content-Type": "image/png"}
    png = solid_png(job.width, job.height)
    assert put(upload, png).status_code == 200
    payload = uploaded(job, png, gpu_seconds=21.5, cold_start_seconds=48.0, timings={"total_s": 21.4})
    body, _ = WebhookSigner(webhook_secret).signed_body(payload)
    assert len(body) < MAX_DIRECT_WEBHOOK_BYTES
    response = post(bucket_client, payload, webhook_secret)
    assert response.status_code == 200 and response.json()["result"] == "applied"
    status = status_of(bucket_client, job)
    assert status["status"] == "completed" and status["seed"] == 5
    assert status["image_url"] == f"{s3_endpoint}/{s3_bucket}/ai-generated/local/{job.id}.png"
    assert httpx.get(status["image_url"], timeout=10).content == png
    stored = bucket_client.app.state.services.generation.jobs.get(job.id)
    assert (stored.gpu_seconds, stored.cold_start_seconds) == (21.5, 48.0)


@pytest.mark.slow
def test_a_completed_webhook_without_the_upload_fails_the_job_with_the_reason(bucket_client, webhook_secret):
    job = submit(bucket_client)
    response = post(bucket_client, uploaded(job, solid_png(job.width, job.height)), webhook_secret)
    assert response.status_code == 200
    status = status_of(bucket_client, job)
    assert status["status"] == "failed"
    assert status["error"] == f"the worker's upload of the image is missing from storage (ai-generated/local/{job.id}.png)"


@pytest.mark.slow
def test_an_upload_of_another_size_fails_the_job_and_is_removed(bucket_client, held_worker, webhook_secret):
    job = submit(bucket_client)
    png = solid_png(job.width, job.height)
    put(held_worker[0].received[0]["upload"], png[:-100])  # cut short
    post(bucket_client, uploaded(job, png), webhook_secret)
    status = status_of(bucket_client, job)
    assert status["status"] == "failed"
    assert status["error"].startswith(f"the worker's upload of the image has {len(png) - 100} bytes, expected {len(png)}")
    assert bucket_client.app.state.services.generation.objects.head(f"ai-generated/local/{job.id}.png") is None


@pytest.mark.slow
def test_the_full_check_fails_an_upload_whose_sha256_differs(
    tmp_path, webhook_secret, held_worker, s3_endpoint, s3_bucket
):
    with app_client(tmp_path, webhook_secret, held_worker[1], TENKAIGEN_UPLOAD_CHECK="full",
                    **s3_settings(s3_endpoint, s3_bucket)) as client:
        job = submit(client)
        png = solid_png(job.width, job.height)
        other = png[:-1] + bytes([png[-1] ^ 0xFF])  # same size, one byte changed: only the digest tells
        put(held_worker[0].received[0]["upload"], other)
        post(client, uploaded(job, png), webhook_secret)
        status = status_of(client, job)
    assert status["status"] == "failed" and "SHA-256" in status["error"]


@pytest.mark.slow
def test_the_header_check_reads_only_the_header_so_a_change_past_it_completes(
    tmp_path, webhook_secret, held_worker, s3_endpoint, s3_bucket
):
    """What TENKAIGEN_UPLOAD_CHECK=header leaves to the worker: the bytes past the PNG header.
    The same-size object completes; the full check (the default) is the one that reads them."""
    with app_client(tmp_path, webhook_secret, held_worker[1], TENKAIGEN_UPLOAD_CHECK="header",
                    **s3_settings(s3_endpoint, s3_bucket)) as client:
        job = submit(client)
        png = solid_png(job.width, job.height)
        put(held_worker[0].received[0]["upload"], png[:-1] + bytes([png[-1] ^ 0xFF]))
        post(client, uploaded(job, png), webhook_secret)
        assert status_of(client, job)["status"] == "completed"


@pytest.mark.slow
def test_an_upload_whose_png_header_is_corrupt_fails_the_job_and_is_removed(bucket_client, held_worker, webhook_secret):
    job = submit(bucket_client)
    png = bytearray(solid_png(job.width, job.height))
    png[20] ^= 0x40  # inside IHDR's width: the chunk's CRC no longer holds
    put(held_worker[0].received[0]["upload"], bytes(png))
    post(bucket_client, uploaded(job, bytes(png)), webhook_secret)
    status = status_of(bucket_client, job)
    assert status["status"] == "failed"
    assert status["error"] == ("the worker's upload of the image is not the asked image: image could not be read: "
                               "the PNG header's CRC does not match")
    assert bucket_client.app.state.services.generation.objects.head(f"ai-generated/local/{job.id}.png") is None


@pytest.mark.slow
def test_an_upload_stored_as_another_content_type_fails_the_job(bucket_client, held_worker, webhook_secret):
    job = submit(bucket_client)
    png = solid_png(job.width, job.height)
    upload = held_worker[0].received[0]["upload"]
    # the presigned URL signs Content-Type: the bucket refuses the PUT under another one
    refused = httpx.put(upload["url"], content=png, headers={"Content-Type": "application/octet-stream"}, timeout=10)
    assert refused.status_code == 403
    # stored so all the same (by a client holding the bucket's keys, say)
    objects = bucket_client.app.state.services.generation.objects
    objects.put(f"ai-generated/local/{job.id}.png", png, "application/octet-stream")
    post(bucket_client, uploaded(job, png), webhook_secret)
    status = status_of(bucket_client, job)
    assert status["status"] == "failed"
    assert "stored as 'application/octet-stream', not image/png" in status["error"]


@pytest.mark.slow
@pytest.mark.parametrize("check", ["full", "header"])
def test_an_upload_of_the_wrong_image_size_fails_the_job_under_either_check(
    check, tmp_path, webhook_secret, held_worker, s3_endpoint, s3_bucket
):
    with app_client(tmp_path, webhook_secret, held_worker[1], TENKAIGEN_UPLOAD_CHECK=check,
                    **s3_settings(s3_endpoint, s3_bucket)) as client:
        job = submit(client)
        small = solid_png(64, 64)
        put(held_worker[0].received[0]["upload"], small)
        post(client, uploaded(job, small), webhook_secret)
        status = status_of(client, job)
    assert status["status"] == "failed"
    assert status["error"].startswith("the worker's upload of the image is not the asked image: image is 64x64")


@pytest.mark.slow
def test_direct_upload_off_keeps_the_png_in_the_webhook(tmp_path, webhook_secret, held_worker, s3_endpoint, s3_bucket):
    with app_client(tmp_path, webhook_secret, held_worker[1], TENKAIGEN_DIRECT_UPLOAD="off",
                    **s3_settings(s3_endpoint, s3_bucket)) as client:
        submit(client)
    assert "upload" not in held_worker[0].received[0]


def test_local_storage_dispatches_no_upload_and_takes_the_png_in_the_webhook(
    tmp_path, webhook_secret, held_worker
):
    with app_client(tmp_path, webhook_secret, held_worker[1]) as client:
        job = submit(client)
        assert "upload" not in held_worker[0].received[0]
        png = solid_png(job.width, job.height)
        payload = WebhookPayload(job_id=job.id, status="completed", image_base64=base64.b64encode(png).decode(),
                                 gpu_seconds=3.0)
        assert post(client, payload, webhook_secret).status_code == 200
        assert status_of(client, job)["status"] == "completed"
        assert client.app.state.services.generation.jobs.get(job.id).gpu_seconds == 3.0


def test_the_gpu_time_of_work_a_cancel_stopped_is_recorded_and_answered_409(tmp_path, webhook_secret, held_worker):
    with app_client(tmp_path, webhook_secret, held_worker[1]) as client:
        job = submit(client)
        assert client.post(f"/api/generate/{job.id}/cancel").status_code == 200
        report = WebhookPayload(job_id=job.id, status="processing", gpu_seconds=7.0, cold_start_seconds=0.0)
        assert post(client, report, webhook_secret).status_code == 409
        stored = client.app.state.services.generation.jobs.get(job.id)
    assert (stored.status, stored.gpu_seconds) == ("canceled", 7.0)


def test_a_result_cannot_carry_both_the_bytes_and_an_upload_receipt(tmp_path, webhook_secret):
    png = solid_png(8, 8)
    with pytest.raises(ValueError, match="not both"):
        WebhookPayload(job_id="j", status="completed", image_base64="AAAA",
                       image=UploadedImage(bytes=len(png), sha256=hashlib.sha256(png).hexdigest()))
