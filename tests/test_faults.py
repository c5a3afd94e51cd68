"""Fault injection on real local servers: a flaky worker, duplicate deliveries, two app
processes on one Postgres, the S3 server stopped mid-run, Postgres connections killed.

After each: every job ends completed or failed with a reason, and the objects in storage
match the completed jobs one to one.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import boto3
import httpx
import psycopg
import pytest
from moto.server import ThreadedMotoServer

from app import create_app
from core.worker_contract.webhooks import WebhookPayload, WebhookSigner
from tests.conftest import S3_TEST_KEY, public_read_policy
from tests.support.apps import make_settings, s3_settings
from tests.support.fake_worker import solid_png
from tests.support.flaky_worker import FlakyWorker
from tests.support.servers import LiveServer, free_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PROMPT = {"prompt": "a fox in the snow", "style": "anime", "product": "sticker"}
SETTLED = {"completed", "failed", "canceled"}


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=S3_TEST_KEY, aws_secret_access_key=S3_TEST_KEY)


def assert_settled_and_stored(pg_url: str, endpoint: str, bucket: str) -> list[dict]:
    """Every job completed or failed with a reason; objects == completed jobs' keys."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        cols = ("id", "user_id", "status", "error", "storage_key")
        rows = [dict(zip(cols, r, strict=True)) for r in conn.execute(
            "SELECT id::text, user_id, status, error, storage_key FROM generation_jobs")]
    assert rows, "no jobs at all"
    for row in rows:
        assert row["status"] in {"completed", "failed"}, row
        if row["status"] == "failed":
            assert row["error"], row
    completed = {r["storage_key"] for r in rows if r["status"] == "completed"}
    assert all(r["storage_key"] == f"ai-generated/{r['user_id']}/{r['id']}.png" for r in rows if r["status"] == "completed")
    listed = s3_client(endpoint).list_objects_v2(Bucket=bucket).get("Contents", [])
    assert {o["Key"] for o in listed} == completed
    return rows


def wait_settled(http: httpx.Client, job_ids: list[str], timeout_s: float = 30) -> dict[str, dict]:
    def all_settled() -> dict[str, dict] | None:
        states = {j: http.get(f"/api/generate/status/{j}").json() for j in job_ids}
        return states if all(s["status"] in SETTLED for s in states.values()) else None

    return wait_until(all_settled, timeout_s=timeout_s, interval_s=0.05, what="every job to settle")


@dataclass
class TwoApps:
    worker: FlakyWorker
    a: str
    b: str
    apps: tuple


@pytest.fixture
def two_apps(tmp_path, pg_store, pg_url, s3_endpoint, s3_bucket, webhook_secret) -> Iterator[TwoApps]:
    """Two app processes on one Postgres and one bucket; the worker calls back process A."""
    worker = FlakyWorker(secret=webhook_secret)
    port_a, port_b = free_port(), free_port()
    with ExitStack() as stack:
        worker_url = stack.enter_context(LiveServer(worker)).url
        apps = []
        for name, port in (("a", port_a), ("b", port_b)):
            settings = make_settings(
                tmp_path / name, DATABASE_URL=pg_url, MODAL_GENERATE_ENDPOINT=worker_url,
                TENKAIGEN_WEBHOOK_URL=f"http://127.0.0.1:{port_a}/api/generate/webhook",
                TENKAIGEN_WEBHOOK_SECRET=webhook_secret, TENKAIGEN_DISPATCH_BACKOFF_S=0,
                TENKAIGEN_QUOTA_PER_MINUTE=0, TENKAIGEN_QUOTA_IN_FLIGHT=0, TENKAIGEN_PENDING_GRACE_S=1,
                # a dispatch whose connection is killed mid-query is left to the recovery pass
                # (GenerationService.dispatch_later): here it passes every second, not every 30
                TENKAIGEN_RECOVERY_INTERVAL_S=1,
                **s3_settings(s3_endpoint, s3_bucket),
            )
            apps.append(create_app(settings))
            stack.enter_context(LiveServer(apps[-1], port=port))
        yield TwoApps(worker, f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}", tuple(apps))


def test_a_flaky_worker_and_duplicate_deliveries_lose_and_duplicate_nothing(two_apps, pg_url, s3_endpoint, s3_bucket):
    two_apps.worker.plan = ["500", "drop", "ok", "ok-twice", "503", "ok", "drop", "ok-twice", "500", "500"]
    job_ids = []
    for i in range(8):
        with httpx.Client(base_url=[two_apps.a, two_apps.b][i % 2], timeout=10) as http:
            job_ids.append(http.post("/api/generate", json=PROMPT).json()["job_id"])
    with httpx.Client(base_url=two_apps.b, timeout=10) as http:
        states = wait_settled(http, job_ids)
    assert {s["status"] for s in states.values()} == {"completed"}
    accepted = two_apps.worker.accepted_job_ids()
    assert sorted(accepted) == sorted(job_ids)  # each job reached the worker exactly once
    assert two_apps.worker.actions.count("ok-twice") >= 1 and set(two_apps.worker.deliveries) == {200}
    assert_settled_and_stored(pg_url, s3_endpoint, s3_bucket)


def test_a_job_completed_through_one_process_shows_in_the_studio_of_another(two_apps, pg_url, s3_endpoint, s3_bucket):
    from gradio_client import Client

    two_apps.worker.plan = ["ok"]
    status, *_images = Client(two_apps.b, verbose=False).predict(prompt="a fox", style="anime", product="sticker",
                                                                 api_name="/generate")
    assert "Done" in status  # the webhook landed on A; B's page polled the database
    rows = assert_settled_and_stored(pg_url, s3_endpoint, s3_bucket)
    assert [r["status"] for r in rows] == ["completed"]


def test_storage_down_answers_503_keeps_the_job_processing_and_the_retry_completes_it(tmp_path, pg_store, pg_url, webhook_secret):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    s3.start()
    bucket = "tenkaigen-outage"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    s3_client(endpoint).put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    worker = FlakyWorker(secret=webhook_secret, plan=["hold"])
    try:
        with LiveServer(worker) as worker_server:
            settings = make_settings(tmp_path, DATABASE_URL=pg_url, MODAL_GENERATE_ENDPOINT=worker_server.url,
                                     TENKAIGEN_WEBHOOK_SECRET=webhook_secret, TENKAIGEN_HTTP_TIMEOUT_S=2,
                                     **s3_settings(endpoint, bucket))
            with LiveServer(create_app(settings)) as app, httpx.Client(base_url=app.url, timeout=60) as http:
                job_id = http.post("/api/generate", json=PROMPT).json()["job_id"]
                wait_until(lambda: worker.received, what="the dispatch")
                job = pg_store.get(job_id)
                payload = WebhookPayload(job_id=job_id, status="completed",
                                         image_base64=base64.b64encode(solid_png(job.width, job.height)).decode())
                body, headers = WebhookSigner(webhook_secret).signed_body(payload)

                s3.stop()
                outage = http.post("/api/generate/webhook", content=body, headers=headers)
                assert outage.status_code == 503 and "Failed to upload" in outage.json()["detail"]
                assert http.get(f"/api/generate/status/{job_id}").json()["status"] == "processing"

                # The restarted server runs in this process, so moto keeps its in-memory
                # buckets across the restart, as a real S3 keeps its objects through an outage.
                s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
                s3.start()
                retry = http.post("/api/generate/webhook", content=body, headers=headers)
                assert retry.status_code == 200 and retry.json()["result"] == "applied"
                assert http.get(f"/api/generate/status/{job_id}").json()["status"] == "completed"
        assert_settled_and_stored(pg_url, endpoint, bucket)
    finally:
        s3.stop()


def kill_other_connections(pg_url: str) -> int:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        return len(conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall())


def test_killed_postgres_connections_are_replaced_and_requests_keep_working(two_apps, pg_url, s3_endpoint, s3_bucket):
    with httpx.Client(base_url=two_apps.b, timeout=10) as http:
        first = http.post("/api/generate", json=PROMPT).json()["job_id"]
        wait_settled(http, [first])
        assert kill_other_connections(pg_url) >= 2  # both apps' pools (and the test's store)
        assert http.get(f"/api/generate/status/{first}").json()["status"] == "completed"
        later = [http.post("/api/generate", json=PROMPT) for _ in range(3)]
        assert [r.status_code for r in later] == [202, 202, 202]
        kill_other_connections(pg_url)
        states = wait_settled(http, [r.json()["job_id"] for r in later])
    assert {s["status"] for s in states.values()} == {"completed"}
    assert_settled_and_stored(pg_url, s3_endpoint, s3_bucket)
