"""GET /metrics: Prometheus text that parses, counters that move with jobs, and who may read it."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from core.jobs.service import GenerateCommand
from core.worker_contract.webhooks import WebhookPayload, WebhookSigner
from tests.support.apps import make_settings
from tests.support.fake_worker import FakeWorker, solid_png
from tests.support.servers import LiveServer, wait_until

TOKEN = "a-long-random-metrics-token"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of an exposition; parsing it is the format check."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client: TestClient) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture
def client(tmp_path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, TENKAIGEN_METRICS_TOKEN=TOKEN, TENKAIGEN_QUOTA_IN_FLIGHT=2)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_a_draft_job_moves_created_completed_latency_and_queue_depth(client):
    before = scrape(client)
    response = client.post("/api/generate", json={"prompt": "a red fox", "style": "watercolor", "product": "poster"})
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    wait_until(lambda: client.get(f"/api/generate/status/{job_id}").json()["status"] == "completed", what="draft job")
    after = scrape(client)
    labels = {"style": "watercolor", "product": "poster"}
    assert value(after, "tenkaigen_jobs_created_total", **labels) == value(before, "tenkaigen_jobs_created_total", **labels) + 1
    finished = "tenkaigen_jobs_finished_total"
    assert value(after, finished, status="completed", **labels) == value(before, finished, status="completed", **labels) + 1
    assert value(after, "tenkaigen_job_seconds_count", **labels) == value(before, "tenkaigen_job_seconds_count", **labels) + 1
    assert value(after, "tenkaigen_submit_seconds_count") == value(before, "tenkaigen_submit_seconds_count") + 1
    assert value(after, "tenkaigen_jobs_in_flight") == 0


def test_pending_jobs_are_the_queue_depth_and_a_cancel_and_a_quota_refusal_count(client):
    service = client.app.state.services.generation
    before = scrape(client)
    first = service.create_job("local", GenerateCommand(prompt="a cat", style="anime", product="mug"))
    service.create_job("local", GenerateCommand(prompt="a dog", style="anime", product="mug"))
    refused = client.post("/api/generate", json={"prompt": "a third", "style": "anime", "product": "mug"})
    assert refused.status_code == 429
    assert value(scrape(client), "tenkaigen_jobs_in_flight") == 2
    client.post(f"/api/generate/{first.id}/cancel")
    after = scrape(client)
    assert value(after, "tenkaigen_jobs_in_flight") == 1
    canceled = ("tenkaigen_jobs_finished_total", {"status": "canceled", "style": "anime", "product": "mug"})
    assert value(after, canceled[0], **canceled[1]) == value(before, canceled[0], **canceled[1]) + 1
    quota = ("tenkaigen_quota_refusals_total", {"limit": "in_flight"})
    assert value(after, quota[0], **quota[1]) == value(before, quota[0], **quota[1]) + 1


def test_webhook_answers_are_counted_by_status_code(tmp_path, webhook_secret):
    worker = FakeWorker(secret=webhook_secret, hold=True)
    with LiveServer(worker.app()) as server:
        settings = make_settings(tmp_path, TENKAIGEN_WEBHOOK_SECRET=webhook_secret, MODAL_GENERATE_ENDPOINT=server.url,
                                 TENKAIGEN_METRICS="public")
        with TestClient(create_app(settings)) as client:
            job = client.app.state.services.generation.submit(
                "local", GenerateCommand(prompt="a red fox", style="anime", product="sticker"))
            before = client.get("/metrics").text
            payload = WebhookPayload(job_id=job.id, status="completed", seed=3,
                                     image_base64=base64.b64encode(solid_png(job.width, job.height)).decode())
            body, headers = WebhookSigner(webhook_secret).signed_body(payload)
            assert client.post("/api/generate/webhook", content=body, headers=headers).status_code == 200
            assert client.post("/api/generate/webhook", content=body, headers={**headers, "webhook-signature": "v1,AAAA"}).status_code == 401
            after = client.get("/metrics").text
    for code in ("200", "401"):
        assert value(after, "tenkaigen_webhooks_total", code=code) == value(before, "tenkaigen_webhooks_total", code=code) + 1


@pytest.mark.parametrize(("values", "client_host", "headers", "status"), [
    ({"TENKAIGEN_METRICS_TOKEN": TOKEN}, "127.0.0.1", {}, 401),  # a token, once set, is needed even locally
    ({"TENKAIGEN_METRICS_TOKEN": TOKEN}, "203.0.113.9", {"Authorization": "Bearer wrong"}, 401),
    ({"TENKAIGEN_METRICS_TOKEN": TOKEN}, "203.0.113.9", {"Authorization": f"Bearer {TOKEN}"}, 200),
    ({}, "127.0.0.1", {}, 200),  # no token: this machine's own scraper
    ({}, "203.0.113.9", {}, 403),
    ({}, "127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, 403),  # through a proxy on this machine
    ({"TENKAIGEN_METRICS": "public"}, "203.0.113.9", {}, 200),
    ({"TENKAIGEN_METRICS": "off"}, "127.0.0.1", {}, 404),
])
def test_who_may_scrape_is_the_settings_choice(tmp_path, values, client_host, headers, status):
    with TestClient(create_app(make_settings(tmp_path, **values)), client=(client_host, 50000)) as client:
        response = client.get("/metrics", headers=headers)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.json()["detail"]


def test_token_mode_without_a_token_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="TENKAIGEN_METRICS_TOKEN"):
        make_settings(tmp_path, TENKAIGEN_METRICS="token")


def test_liveness_does_no_io_and_readiness_reports_each_part(client):
    assert client.get("/api/health").json()["status"] == "ok"
    ready = client.get("/api/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and set(body["checks"]) == {"database", "storage", "worker"}


def test_a_throttled_sign_in_is_counted(tmp_path):
    settings = make_settings(tmp_path, TENKAIGEN_AUTH="local", TENKAIGEN_LOGIN_FREE_FAILURES=0,
                             TENKAIGEN_METRICS="public")
    with TestClient(create_app(settings)) as client:
        client.app.state.services.accounts.add("ada", "ada-password-1")
        before = client.get("/metrics").text
        assert client.get("/api/me", auth=("ada", "wrong-guess")).status_code == 401  # locks for 1 s
        assert client.get("/api/me", auth=("ada", "ada-password-1")).status_code == 429
        after = client.get("/metrics").text
    assert value(after, "tenkaigen_login_throttles_total") == value(before, "tenkaigen_login_throttles_total") + 1
