"""One request all the way from a prompt to a stored image, through HTTP only.

The app runs under uvicorn on loopback. Embedded: SQLite, local folder, draft renderer.
Production-shaped: real Postgres, the S3 server on loopback, and a separate worker server
that accepts the dispatch and later calls the signed webhook.
"""

from __future__ import annotations

import httpx
import pytest

from app import create_app
from tests.support.apps import make_settings, s3_settings
from tests.support.fake_worker import FakeWorker
from tests.support.servers import LiveServer, free_port, wait_until


def generate_through_http(base_url: str, prompt: str, style: str, product: str) -> dict:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        parsed = http.post("/api/parse-prompt", json={"prompt": prompt, "style": style, "product": product})
        assert parsed.status_code == 200
        brief = parsed.json()["parsed"]
        accepted = http.post("/api/generate", json={"prompt": prompt, "style": style, "product": product, "seed": 1234})
        assert accepted.status_code == 202 and accepted.json()["status"] == "pending"
        job_id = accepted.json()["job_id"]

        def finished() -> dict | None:
            status = http.get(f"/api/generate/status/{job_id}").json()
            return status if status["status"] in {"completed", "failed", "canceled"} else None

        final = wait_until(finished, timeout_s=30, what=f"job {job_id} to finish")
        assert final["status"] == "completed", final
        assert final["error"] is None and final["processing_time_ms"] >= 0
        image = httpx.get(final["image_url"], timeout=10)
        assert image.status_code == 200
        assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
        return {"brief": brief, "final": final, "png": image.content}


@pytest.mark.slow
def test_embedded_defaults_turn_a_prompt_into_a_served_draft(tmp_path):
    port = free_port()
    settings = make_settings(tmp_path, TENKAIGEN_PUBLIC_URL=f"http://127.0.0.1:{port}")
    with LiveServer(create_app(settings), port=port) as app_server:
        result = generate_through_http(app_server.url, "A cyberpunk samurai with neon lights", "anime", "t-shirt")
    assert result["final"]["image_url"].startswith(f"{app_server.url}/media/ai-generated/local/")
    assert (tmp_path / "objects" / "ai-generated" / "local" / f"{result['final']['job_id']}.png").read_bytes() == result["png"]


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_s3_and_a_remote_worker_turn_a_prompt_into_a_stored_image(tmp_path, pg_store, pg_url, s3_endpoint, s3_bucket, webhook_secret):
    worker = FakeWorker(secret=webhook_secret)
    port = free_port()
    with LiveServer(worker.app()) as worker_server:
        settings = make_settings(
            tmp_path,
            DATABASE_URL=pg_url,
            MODAL_GENERATE_ENDPOINT=worker_server.url,
            TENKAIGEN_WEBHOOK_URL=f"http://127.0.0.1:{port}/api/generate/webhook",
            TENKAIGEN_WEBHOOK_SECRET=webhook_secret,
            **s3_settings(s3_endpoint, s3_bucket),
        )
        with LiveServer(create_app(settings), port=port) as app_server:
            result = generate_through_http(app_server.url, "a watercolor whale at dawn", "watercolor", "poster")
    job_id = result["final"]["job_id"]
    assert result["final"]["image_url"] == f"{s3_endpoint}/{s3_bucket}/ai-generated/local/{job_id}.png"
    dispatched = worker.received[0]
    assert (dispatched["width"], dispatched["height"], dispatched["seed"]) == (1136, 1520, 1234)
    assert dispatched["prompt"] == result["brief"]["prompt"]
    assert worker.deliveries == [200]
    stored = pg_store.get(job_id)
    assert stored.status == "completed" and stored.storage_key == f"ai-generated/local/{job_id}.png"


@pytest.mark.slow
def test_a_worker_failure_ends_the_job_failed_with_its_message(tmp_path, webhook_secret):
    worker = FakeWorker(secret=webhook_secret, fail_with="width must be a multiple of 16")
    port = free_port()
    with LiveServer(worker.app()) as worker_server:
        settings = make_settings(
            tmp_path,
            MODAL_GENERATE_ENDPOINT=worker_server.url,
            TENKAIGEN_WEBHOOK_URL=f"http://127.0.0.1:{port}/api/generate/webhook",
            TENKAIGEN_WEBHOOK_SECRET=webhook_secret,
        )
        with LiveServer(create_app(settings), port=port) as app_server, httpx.Client(base_url=app_server.url) as http:
            job_id = http.post("/api/generate", json={"prompt": "a fox", "style": "anime", "product": "mug"}).json()["job_id"]
            final = wait_until(
                lambda: (s := http.get(f"/api/generate/status/{job_id}").json())["status"] == "failed" and s,
                what="the failed job",
            )
    assert final["error"] == "width must be a multiple of 16"


@pytest.mark.slow
def test_an_unreachable_worker_fails_the_job_with_a_readable_reason(tmp_path):
    settings = make_settings(tmp_path, MODAL_GENERATE_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    with LiveServer(create_app(settings)) as app_server, httpx.Client(base_url=app_server.url) as http:
        job_id = http.post("/api/generate", json={"prompt": "a fox", "style": "anime", "product": "mug"}).json()["job_id"]
        final = wait_until(
            lambda: (s := http.get(f"/api/generate/status/{job_id}").json())["status"] == "failed" and s,
            what="the failed job",
        )
    assert "GPU worker unreachable" in final["error"]
