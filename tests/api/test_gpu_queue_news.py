"""What the GPU worker says of its queue when it takes a job reaches the job's status: "starting
a GPU" or "queued on the GPU, N ahead", until the job's first progress report.

The app runs against a held fake worker on loopback whose 202 says what a Modal front says.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from app import create_app
from core.worker_contract.messages import WebhookPayload
from core.worker_contract.webhooks import WebhookSigner
from tests.support.apps import make_settings
from tests.support.fake_worker import FakeWorker
from tests.support.servers import LiveServer

PROMPT = {"prompt": "a red fox", "style": "anime", "product": "sticker"}


@contextmanager
def app_with_worker(tmp_path, secret: str, answer: dict[str, Any]) -> Iterator[TestClient]:
    worker = FakeWorker(secret=secret, hold=True, answer=answer)
    with LiveServer(worker.app()) as server, TestClient(create_app(make_settings(
            tmp_path, TENKAIGEN_WEBHOOK_SECRET=secret, MODAL_GENERATE_ENDPOINT=server.url))) as client:
        yield client


def submitted(client: TestClient) -> str:
    answer = client.post("/api/generate", json=PROMPT)  # the dispatch runs before TestClient returns
    assert answer.status_code == 202
    return answer.json()["job_id"]


def test_a_cold_gpu_shows_as_starting_until_the_first_progress(tmp_path, webhook_secret):
    with app_with_worker(tmp_path, webhook_secret, {"queue_depth": 3, "gpu": "starting", "ahead": 2}) as client:
        job_id = submitted(client)
        waiting = client.get(f"/api/generate/status/{job_id}").json()
        assert (waiting["status"], waiting["gpu_queue"], waiting["progress"]) == (
            "processing", {"wait": "starting", "ahead": 2}, None)
        body, headers = WebhookSigner(webhook_secret).signed_body(
            WebhookPayload(job_id=job_id, status="processing", progress={"step": 0, "total": 8}))
        assert client.post("/api/generate/webhook", content=body, headers=headers).status_code == 200
        running = client.get(f"/api/generate/status/{job_id}").json()
    assert (running["gpu_queue"], running["progress"]) == (None, {"step": 0, "total": 8})


def test_a_warm_gpu_with_a_backlog_shows_as_queued(tmp_path, webhook_secret):
    with app_with_worker(tmp_path, webhook_secret, {"queue_depth": 5, "gpu": "warm", "ahead": 4}) as client:
        status = client.get(f"/api/generate/status/{submitted(client)}").json()
    assert status["gpu_queue"] == {"wait": "queued", "ahead": 4}


def test_a_worker_that_says_nothing_of_its_queue_leaves_it_unsaid(tmp_path, webhook_secret):
    with app_with_worker(tmp_path, webhook_secret, {}) as client:  # an older worker: no queue_depth even
        status = client.get(f"/api/generate/status/{submitted(client)}").json()
    assert (status["status"], status["gpu_queue"]) == ("processing", None)
