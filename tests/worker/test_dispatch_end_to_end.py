"""The app and the real worker app, each under uvicorn, driven through HTTP only.

The app dispatches through RemoteWorkerDispatcher to the worker (the tiny Qwen-Image model), the
worker posts the signed webhook back, and the PNG ends up in the S3 server on loopback.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from PIL import Image

from app import create_app
from modal_app.engine_config import EngineConfig
from modal_app.inference import QwenImageEngine
from modal_app.inference_errors import InferenceOutOfMemory
from modal_app.worker_app import create_worker_app
from tests.support.apps import make_settings, s3_settings
from tests.support.servers import LiveServer, free_port, wait_until
from tests.worker.conftest import TINY_MIN_SIDE
from tests.worker.engines import FailingEngine

pytestmark = pytest.mark.slow

STEPS = 2  # TENKAIGEN_GENERATION_STEPS: the tiny model's time goes into the full-size VAE decode


@contextmanager
def app_and_worker(tmp_path, engine: Any, secret: str, **settings: Any) -> Iterator[httpx.Client]:
    port = free_port()
    webhook_url = f"http://127.0.0.1:{port}/api/generate/webhook"
    worker_app = create_worker_app(engine, secret, allowed_webhook_url=webhook_url, backoff_s=(0.1, 0.5, 1, 2, 4))
    with LiveServer(worker_app) as worker:
        app_settings = make_settings(
            tmp_path,
            MODAL_GENERATE_ENDPOINT=worker.url,
            TENKAIGEN_WEBHOOK_URL=webhook_url,
            TENKAIGEN_WEBHOOK_SECRET=secret,
            TENKAIGEN_GENERATION_STEPS=STEPS,
            **settings,
        )
        with LiveServer(create_app(app_settings), port=port) as app_server:
            with httpx.Client(base_url=app_server.url, timeout=10) as http:
                yield http


def finished_job(http: httpx.Client, job_id: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        status = http.get(f"/api/generate/status/{job_id}").json()
        return status if status["status"] in {"completed", "failed", "canceled"} else None

    return wait_until(finished, timeout_s=120, what=f"job {job_id} to finish")


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_prompt_becomes_a_qwen_image_png_in_s3_through_the_worker(
    request, database, tmp_path, tiny_engine, webhook_secret, s3_endpoint, s3_bucket
):
    database_settings = {"DATABASE_URL": request.getfixturevalue("pg_url")} if database == "postgres" else {}
    with app_and_worker(tmp_path, tiny_engine, webhook_secret, **s3_settings(s3_endpoint, s3_bucket),
                        **database_settings) as http:
        accepted = http.post("/api/generate", json={"prompt": "a watercolor whale at dawn", "style": "watercolor",
                                                    "product": "poster", "seed": 1234})
        assert accepted.status_code == 202
        job_id = accepted.json()["job_id"]
        final = finished_job(http, job_id)
    assert final["status"] == "completed", final
    assert final["error"] is None and final["seed"] == 1234
    assert final["image_url"] == f"{s3_endpoint}/{s3_bucket}/ai-generated/local/{job_id}.png"
    image = httpx.get(final["image_url"], timeout=10)
    assert image.status_code == 200
    with Image.open(io.BytesIO(image.content)) as png:
        assert (png.format, png.size) == ("PNG", (1136, 1520))  # the poster's generation size (3:4)


def test_a_worker_error_ends_the_job_failed_with_its_message(tmp_path, webhook_secret):
    engine = FailingEngine(InferenceOutOfMemory("out of memory generating 1104x1472: CUDA out of memory"))
    with app_and_worker(tmp_path, engine, webhook_secret) as http:
        job_id = http.post("/api/generate", json={"prompt": "a fox", "style": "anime", "product": "mug"}).json()["job_id"]
        final = finished_job(http, job_id)
    assert (final["status"], final["error"]) == ("failed", "out of memory generating 1104x1472: CUDA out of memory")


def test_a_size_the_model_cannot_make_fails_the_job_naming_the_parameter(tmp_path, tiny_model_dir, webhook_secret):
    small_model = QwenImageEngine(EngineConfig(model=str(tiny_model_dir), min_side=TINY_MIN_SIDE, max_side=1024))
    with app_and_worker(tmp_path, small_model, webhook_secret) as http:
        job_id = http.post("/api/generate", json={"prompt": "a fox", "style": "anime", "product": "mug"}).json()["job_id"]
        final = finished_job(http, job_id)
    assert final["status"] == "failed"
    assert final["error"] == "`width` must be a multiple of 16 between 64 and 1024, got 2048"
