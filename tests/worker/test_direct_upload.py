"""The worker's side of results straight to the bucket: PUT to the presigned URL (retried where a
retry helps), then a small signed webhook with the image's size and SHA-256 and the job's GPU
time; and the whole path with the app, the worker and moto's S3 server on loopback."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from app import create_app
from core.storage import S3ObjectStore
from core.worker_contract.engine import InferenceRequest, InferenceResult, ProgressCallback, StageTimings
from core.worker_contract.messages import MAX_DIRECT_WEBHOOK_BYTES, UploadTarget
from core.worker_contract.webhooks import SignedRequestAuth
from modal_app.uploads import ResultUploader, UploadFailed
from modal_app.worker_app import create_worker_app
from tests.support.apps import make_settings, s3_settings
from tests.support.fake_worker import solid_png
from tests.support.servers import LiveServer, free_port, wait_until
from tests.worker.receiver import WebhookReceiver

NO_WAIT = (0.0, 0.0, 0.0)


class SolidEngine:
    """Answers each job at once with a solid PNG of the asked size (the upload path is under test)."""

    model_name = "solid-engine"
    is_loaded = True

    def load(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {}

    def generate(self, request: InferenceRequest, on_progress: ProgressCallback | None = None) -> InferenceResult:
        if on_progress is not None:
            on_progress(1, 1)
        timings = StageTimings(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return InferenceResult(solid_png(request.width, request.height), request.seed, 1, request.width,
                               request.height, 1.0, timings, "solid")


@contextmanager
def running_worker(secret: str, **options: Any) -> Iterator[tuple[httpx.Client, Any]]:
    app = create_worker_app(SolidEngine(), secret, backoff_s=NO_WAIT, upload_backoff_s=NO_WAIT, **options)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10,
                                                 auth=SignedRequestAuth(secret)) as http:
        yield http, app.state.worker


def job_body(hook: str, upload: UploadTarget | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"job_id": uuid.uuid4().hex, "prompt": "a fox", "width": 256, "height": 256, "seed": 7,
                            "steps": 1, "webhook_url": hook}
    if upload is not None:
        body["upload"] = upload.model_dump()
    return body


def target_for(store: S3ObjectStore, key: str) -> UploadTarget:
    presigned = store.presigned_put_url(key, 600)
    assert presigned is not None
    return UploadTarget(url=presigned.url, headers=presigned.headers)


# --- ResultUploader against a scripted bucket ---------------------------------------------------
class ScriptedBucket:
    """Answers PUTs with the scripted status codes (then 200), keeping the bodies it took."""

    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.put("/bucket/{key}")
        async def put(key: str, request: Request) -> Response:
            body = await request.body()
            with self._lock:
                self.bodies.append(body)
                answer = self.answers.pop(0) if self.answers else 200
            return Response(status_code=answer, content=b"" if answer < 300 else b"<Error>SignatureDoesNotMatch</Error>")

        return api


def test_an_upload_answered_5xx_is_retried_until_stored():
    bucket = ScriptedBucket([500, 503])
    png = solid_png(16, 16)
    with LiveServer(bucket.app()) as server:
        uploader = ResultUploader(backoff_s=NO_WAIT)
        image = uploader.upload(UploadTarget(url=f"{server.url}/bucket/a.png"), png, "job-1")
        uploader.close()
    assert (image.bytes, image.sha256) == (len(png), hashlib.sha256(png).hexdigest())
    assert bucket.bodies == [png, png, png]


def test_an_upload_refused_with_403_fails_at_once_with_the_answer():
    bucket = ScriptedBucket([403])
    with LiveServer(bucket.app()) as server:
        uploader = ResultUploader(backoff_s=NO_WAIT)
        with pytest.raises(UploadFailed, match=r"after 1 attempt\(s\): PUT answered 403: <Error>SignatureDoesNotMatch"):
            uploader.upload(UploadTarget(url=f"{server.url}/bucket/a.png"), solid_png(16, 16), "job-1")
        uploader.close()
    assert len(bucket.bodies) == 1


def test_an_unreachable_bucket_is_retried_then_reported():
    uploader = ResultUploader(backoff_s=NO_WAIT, timeout_s=2)
    with pytest.raises(UploadFailed, match=r"after 4 attempt\(s\): ConnectError"):
        uploader.upload(UploadTarget(url=f"http://127.0.0.1:{free_port()}/bucket/a.png"), b"png", "job-1")
    uploader.close()


# --- the worker app ------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_worker_puts_the_png_to_the_bucket_and_posts_a_small_webhook(webhook_secret, receiver, s3_store):
    key = "ai-generated/alice/direct.png"
    with running_worker(webhook_secret) as (http, _):
        assert http.post("/generate", json=job_body(receiver.url, target_for(s3_store, key))).status_code == 202
        result = wait_until(receiver.delivered_result, timeout_s=30, what="the result webhook")
    assert result.status == "completed" and result.image_base64 is None
    stored = s3_store.get(key)
    assert stored == solid_png(256, 256)
    assert (result.image.bytes, result.image.sha256) == (len(stored), hashlib.sha256(stored).hexdigest())
    assert s3_store.head(key).content_type == "image/png"
    assert len(result.model_dump_json(exclude_none=True)) < MAX_DIRECT_WEBHOOK_BYTES
    assert result.gpu_seconds is not None and result.gpu_seconds >= 0
    assert result.cold_start_seconds is not None and result.cold_start_seconds > 0  # its first job


@pytest.mark.slow
def test_an_upload_the_bucket_refuses_ends_in_a_failed_webhook_with_the_reason(webhook_secret, receiver, s3_store):
    target = target_for(s3_store, "ai-generated/alice/refused.png")
    broken = UploadTarget(url=target.url.replace(s3_store.bucket, "no-such-bucket", 1), headers=target.headers)
    with running_worker(webhook_secret) as (http, _):
        http.post("/generate", json=job_body(receiver.url, broken))
        result = wait_until(receiver.delivered_result, timeout_s=30, what="the result webhook")
    assert result.status == "failed"
    assert result.error.startswith("the worker could not upload the image to storage (127.0.0.1:")
    assert "PUT answered 404" in result.error and result.gpu_seconds is not None


def test_without_an_upload_the_png_travels_in_the_webhook_and_only_the_first_job_has_a_cold_start(
    webhook_secret, receiver
):
    with running_worker(webhook_secret) as (http, _):
        for _ in range(2):
            http.post("/generate", json=job_body(receiver.url))
        wait_until(lambda: len(receiver.results()) == 2, timeout_s=30, what="two results")
    first, second = (a.payload for a in receiver.results())
    assert first.image_bytes() == solid_png(256, 256) and first.image is None
    assert first.cold_start_seconds > 0 and second.cold_start_seconds == 0.0


class StoppedEngine(SolidEngine):
    """Reports steps until the app's 409 stops the job."""

    def generate(self, request: InferenceRequest, on_progress: ProgressCallback | None = None) -> InferenceResult:
        assert on_progress is not None
        for step in range(1, 10**6):
            on_progress(step, 10**6)  # raises GenerationCanceled once a progress post was answered 409
        raise AssertionError("the 409 never canceled the job")


def test_work_a_cancel_stopped_is_reported_with_its_gpu_time_and_no_result(webhook_secret, receiver):
    receiver.progress_answer = 409
    app = create_worker_app(StoppedEngine(), webhook_secret, backoff_s=NO_WAIT)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, auth=SignedRequestAuth(webhook_secret)) as http:
        http.post("/generate", json=job_body(receiver.url))
        report = wait_until(lambda: next((a.payload for a in receiver.progress() if a.payload.gpu_seconds is not None),
                                         None), timeout_s=30, what="the GPU time report")
    assert report.status == "processing" and report.progress is None and report.gpu_seconds >= 0
    assert receiver.results() == []


# --- app + worker + bucket ----------------------------------------------------------------------
@pytest.mark.slow
def test_dispatch_direct_put_small_webhook_complete_through_app_and_worker(
    tmp_path, webhook_secret, s3_endpoint, s3_bucket
):
    port = free_port()
    hook = f"http://127.0.0.1:{port}/api/generate/webhook"
    sizes: list[int] = []
    with running_worker(webhook_secret, allowed_webhook_url=hook) as (worker_http, _):
        settings = make_settings(tmp_path, MODAL_GENERATE_ENDPOINT=str(worker_http.base_url).rstrip("/"),
                                 TENKAIGEN_WEBHOOK_URL=hook,
                                 TENKAIGEN_WEBHOOK_SECRET=webhook_secret, **s3_settings(s3_endpoint, s3_bucket))
        app = create_app(settings)

        @app.middleware("http")
        async def measure(request: Request, call_next):  # the webhook bodies the app receives
            if request.url.path == "/api/generate/webhook":
                sizes.append(int(request.headers.get("content-length", "0")))
            return await call_next(request)

        with LiveServer(app, port=port) as server, httpx.Client(base_url=server.url, timeout=10) as http:
            job_id = http.post("/api/generate", json={"prompt": "a fox", "style": "anime", "product": "sticker"}
                               ).json()["job_id"]
            final = wait_until(lambda: (s := http.get(f"/api/generate/status/{job_id}").json())["status"]
                               in {"completed", "failed"} and s, timeout_s=60, what="the job to finish")
            job = app.state.services.generation.jobs.get(job_id)
    assert final["status"] == "completed", final
    image = httpx.get(final["image_url"], timeout=10)
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
    assert sizes and max(sizes) < MAX_DIRECT_WEBHOOK_BYTES
    assert job.gpu_seconds is not None and job.cold_start_seconds is not None
