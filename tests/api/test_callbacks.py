"""Result callbacks: a job's terminal status POSTed, signed, to the caller's callback_url,
retried with backoff, recorded on the job, and redelivered by the recovery pass."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient

from app import build_services, create_app
from api.schemas import JobStatusResponse
from core.errors import WebhookRejected
from core.jobs.callbacks import ABANDONED, DELIVERED, CallbackDispatcher, check_callback_url
from core.jobs.service import GenerateCommand
from core.services import Services
from core.worker_contract.webhooks import generate_webhook_secret, verify_signature
from tests.support.apps import make_settings
from tests.support.servers import LiveServer, wait_until


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    body: dict
    answered: int


@dataclass
class CallbackReceiver:
    """Checks every signature with the app's secret; answers the scripted codes in order, then 200."""

    secret: str
    answers: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    rejected_signatures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/done")
        async def done(request: Request) -> Response:
            raw = await request.body()
            try:
                verify_signature(self.secret, raw, dict(request.headers))
            except WebhookRejected:
                self.rejected_signatures += 1
                return Response(status_code=401)
            with self._lock:
                answer = self.answers.pop(0) if self.answers else 200
                self.deliveries.append(Delivery(request.headers["webhook-id"], json.loads(raw), answer))
            return Response(status_code=answer)

        return api

    def accepted(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.answered < 300]


@pytest.fixture
def services(tmp_path) -> Iterator[Services]:
    settings = make_settings(tmp_path, TENKAIGEN_CALLBACK_ALLOW_PRIVATE=True, TENKAIGEN_QUOTA_IN_FLIGHT=0)
    built = build_services(settings)
    # the app's dispatcher, with retry delays short enough for a test
    built.generation.callbacks.close()
    built.generation.callbacks = CallbackDispatcher(
        built.generation.jobs, built.webhook_secret, settings.public_url, allow_private=True, timeout_s=5,
        retry_delays_s=(0.05, 0.05, 0.05),
    )
    yield built


@pytest.fixture
def client(services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services)) as test_client:
        yield test_client


@pytest.fixture
def receiver(services) -> Iterator[tuple[CallbackReceiver, str]]:
    hooks = CallbackReceiver(services.webhook_secret)
    with LiveServer(hooks.app()) as server:
        yield hooks, f"{server.url}/done"


def test_a_completed_job_sends_one_signed_post_carrying_its_status(client, services, receiver):
    hooks, url = receiver
    body = {"prompt": "a red fox", "style": "anime", "product": "mug", "seed": 5, "callback_url": url}
    job_id = client.post("/api/generate", json=body).json()["job_id"]
    delivery = wait_until(lambda: hooks.accepted() and hooks.accepted()[0], what="the callback")
    wait_until(lambda: services.generation.jobs.get(job_id).callback_state == DELIVERED, what="delivered marker")
    status = client.get(f"/api/generate/status/{job_id}").json()
    assert delivery.body["status"] == "completed" and delivery.body["job_id"] == job_id
    assert JobStatusResponse.model_validate(delivery.body).seed == 5
    assert {k: v for k, v in delivery.body.items() if k != "image_url"} == {
        k: v for k, v in status.items() if k != "image_url"
    }
    assert delivery.body["image_url"].endswith(status["image_url"].removeprefix("http://testserver"))
    assert delivery.webhook_id == f"msg_{job_id}_completed"
    assert len(hooks.deliveries) == 1 and hooks.rejected_signatures == 0
    job = services.generation.jobs.get(job_id)
    assert (job.callback_attempts, job.callback_state) == (1, DELIVERED)


def test_the_signature_is_the_apps_secret_and_checks_the_body(client, services, receiver):
    hooks, url = receiver
    hooks.secret = generate_webhook_secret()  # a receiver holding another secret refuses every delivery
    body = {"prompt": "a red fox", "style": "anime", "product": "mug", "callback_url": url}
    job_id = client.post("/api/generate", json=body).json()["job_id"]
    wait_until(lambda: services.generation.jobs.get(job_id).callback_state == ABANDONED, what="abandoned")
    assert hooks.rejected_signatures == 1 and hooks.deliveries == []  # 401 is final: one attempt


def test_a_receiver_failing_twice_then_answering_gets_it_delivered(client, services, receiver):
    hooks, url = receiver
    hooks.answers = [503, 429]
    body = {"prompt": "a red fox", "style": "anime", "product": "mug", "callback_url": url}
    job_id = client.post("/api/generate", json=body).json()["job_id"]
    wait_until(lambda: services.generation.jobs.get(job_id).callback_state == DELIVERED, what="delivered")
    assert [d.answered for d in hooks.deliveries] == [503, 429, 200]
    assert len({d.webhook_id for d in hooks.deliveries}) == 1  # one message, retried
    assert services.generation.jobs.get(job_id).callback_attempts == 3


def test_a_final_refusal_is_not_retried_and_the_job_records_it(client, services, receiver):
    hooks, url = receiver
    hooks.answers = [404]
    body = {"prompt": "a red fox", "style": "anime", "product": "mug", "callback_url": url}
    job_id = client.post("/api/generate", json=body).json()["job_id"]
    wait_until(lambda: services.generation.jobs.get(job_id).callback_state == ABANDONED, what="abandoned")
    assert [d.answered for d in hooks.deliveries] == [404]


def test_a_receiver_that_never_answers_well_is_abandoned_after_the_last_attempt(client, services, receiver):
    hooks, url = receiver
    hooks.answers = [500, 500, 500, 500, 500]
    body = {"prompt": "a red fox", "style": "anime", "product": "mug", "callback_url": url}
    job_id = client.post("/api/generate", json=body).json()["job_id"]
    wait_until(lambda: services.generation.jobs.get(job_id).callback_state == ABANDONED, what="abandoned")
    assert len(hooks.deliveries) == 4 == services.generation.jobs.get(job_id).callback_attempts


def test_a_canceled_job_sends_its_canceled_status(client, services, receiver):
    hooks, url = receiver
    job = services.generation.create_job("local", GenerateCommand(
        prompt="a cat", style="anime", product="mug", callback_url=url))
    assert client.post(f"/api/generate/{job.id}/cancel").status_code == 200
    delivery = wait_until(lambda: hooks.accepted() and hooks.accepted()[0], what="the callback")
    assert delivery.body["status"] == "canceled" and delivery.webhook_id == f"msg_{job.id}_canceled"


def test_the_recovery_pass_redelivers_a_callback_a_dead_process_still_owed(client, services, receiver):
    hooks, url = receiver
    jobs = services.generation.jobs
    # a job that finished in a process that died before sending: owed, no attempt recorded
    job = services.generation.create_job("local", GenerateCommand(
        prompt="a cat", style="anime", product="mug", callback_url=url))
    jobs.mark_canceled(job.id)
    assert services.recovery.run_once().callbacks_requeued == []  # too recent: its own process may be sending
    later = datetime.now(UTC) + timedelta(hours=1)
    assert services.recovery.run_once(now=later).callbacks_requeued == [job.id]
    wait_until(lambda: jobs.get(job.id).callback_state == DELIVERED, what="redelivered")
    assert len(hooks.accepted()) == 1
    assert services.recovery.run_once(now=later).callbacks_requeued == []


@pytest.mark.parametrize(
    ("callback_url", "message"),
    [
        ("ftp://example.com/hook", "http:// or https://"),
        ("example.com/hook", "http:// or https://"),
        ("https://user:pw@example.com/hook", "credentials"),
        ("https://example.com/" + "a" * 2100, "2048"),
        ("http://127.0.0.1:8000/hook", "private"),
        ("http://localhost/hook", "private"),
        ("http://10.1.2.3/hook", "private"),
        ("http://[::1]/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "private"),
    ],
    ids=["ftp", "no-scheme", "credentials", "too-long", "loopback", "localhost", "private", "ipv6-loopback",
         "link-local"],
)
def test_an_invalid_callback_url_is_422_and_stores_nothing(tmp_path, callback_url, message):
    with TestClient(create_app(make_settings(tmp_path))) as client:
        response = client.post("/api/generate", json={"prompt": "a fox", "style": "anime", "product": "mug",
                                                      "callback_url": callback_url})
        assert response.status_code == 422
        assert message in json.dumps(response.json()["detail"])
        assert client.get("/api/generate/jobs").json()["jobs"] == []


def test_public_hosts_are_accepted_and_loopback_only_when_allowed():
    assert check_callback_url(" https://hooks.example.com/tenkaigen ") == "https://hooks.example.com/tenkaigen"
    assert check_callback_url("http://127.0.0.1:9/x", allow_private=True) == "http://127.0.0.1:9/x"
