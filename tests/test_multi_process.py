"""Several processes, one deployment: `python app.py --workers 2` on one Postgres and one bucket,
a browser on a sticky proxy in front, API clients on each process directly.

A job created through one process is completed by the other (the GPU worker's webhook goes
there) and is visible through both; the studio works through the proxy because every request
of a browser session reaches the same process; /metrics on either process counts the events
of both (PROMETHEUS_MULTIPROC_DIR, set by the supervisor).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import S3_TEST_KEY
from tests.support.fake_worker import FakeWorker
from tests.support.servers import LiveServer, free_port, wait_until
from tests.support.sticky_proxy import StickyProxy
from tests.support.studio_page import StudioPage

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.browser]

APP_PY = Path(__file__).resolve().parents[1] / "app.py"
# variables of the developer's shell that would change the app under test
INHERITED_SETTINGS = re.compile(r"^(TENKAIGEN_|B2_S3_|DATABASE_URL|MODAL_|GEMINI_|SUPABASE_|STORAGE_|PRINTFUL_|PROMETHEUS_)")


def consecutive_free_ports(count: int) -> int:
    """The first of `count` consecutive ports free on loopback now."""
    for _ in range(50):
        first = free_port()
        sockets = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                sockets.append(sock)
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports")


@dataclass
class Deployment:
    a: str
    b: str
    user: str
    worker: FakeWorker
    supervisor: subprocess.Popen


@pytest.fixture
def deployment(tmp_path, pg_url, s3_endpoint, s3_bucket, webhook_secret) -> Iterator[Deployment]:
    worker = FakeWorker(secret=webhook_secret)
    first = consecutive_free_ports(2)
    a, b = f"http://127.0.0.1:{first}", f"http://127.0.0.1:{first + 1}"
    user = f"team-{uuid.uuid4().hex[:8]}"
    with LiveServer(worker.app()) as worker_server:
        env = {k: v for k, v in os.environ.items() if not INHERITED_SETTINGS.match(k)}
        env.update({
            "TENKAIGEN_DATA_DIR": str(tmp_path / "data"),
            "TENKAIGEN_LOCAL_USER": user,
            "DATABASE_URL": pg_url,
            "TENKAIGEN_DB_POOL_SIZE": "4",
            "B2_S3_ENDPOINT": s3_endpoint, "B2_S3_REGION": "us-east-1", "B2_S3_BUCKET": s3_bucket,
            "B2_S3_ACCESS_KEY_ID": S3_TEST_KEY, "B2_S3_SECRET_ACCESS_KEY": S3_TEST_KEY,
            "MODAL_GENERATE_ENDPOINT": worker_server.url,
            "TENKAIGEN_WEBHOOK_SECRET": webhook_secret,
            # every result is delivered to the second process, whoever dispatched the job
            "TENKAIGEN_WEBHOOK_URL": f"{b}/api/generate/webhook",
            "TENKAIGEN_GENERATION_STEPS": "4",
        })
        supervisor = subprocess.Popen([sys.executable, str(APP_PY), "--workers", "2", "--port", str(first)],
                                      cwd=tmp_path, env=env)
        try:
            for url in (a, b):
                wait_until(lambda url=url: _answers(f"{url}/api/ready"), timeout_s=180, interval_s=0.5,
                           what=f"the app process at {url}")
            yield Deployment(a, b, user, worker, supervisor)
        finally:
            supervisor.send_signal(signal.SIGTERM)
            try:
                supervisor.wait(timeout=60)
            except subprocess.TimeoutExpired:
                supervisor.kill()
                raise


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def status(base: str, job_id: str) -> dict:
    response = httpx.get(f"{base}/api/generate/status/{job_id}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def completed_total(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "tenkaigen_jobs_finished_total" and sample.labels.get("status") == "completed")


def test_two_processes_serve_one_deployment_behind_a_sticky_proxy(deployment: Deployment, browser: Browser):  # noqa: F811
    a, b = deployment.a, deployment.b
    # --- API: created through A, completed by B (the webhook goes there), visible through both
    created = httpx.post(f"{a}/api/generate", json={"prompt": "a red fox", "style": "anime", "product": "sticker"},
                         timeout=30)
    assert created.status_code == 202, created.text
    job_id = created.json()["job_id"]
    done = wait_until(lambda: (s := status(b, job_id))["status"] == "completed" and s, timeout_s=60, what="the job on B")
    assert status(a, job_id)["status"] == "completed"
    assert deployment.worker.received[0]["webhook_url"] == f"{b}/api/generate/webhook"
    image = httpx.get(done["image_url"], timeout=10)  # the bucket's public URL: the same for every process
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")

    # --- the studio through the proxy: one browser session, one process
    proxy = StickyProxy([a, b])
    with LiveServer(proxy) as proxy_server:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            ui = StudioPage(context.new_page(), proxy_server.url).open()
            ui.edit(ui.prompt, "a paper crane over a wave")
            ui.click("generate")
            new = wait_until(lambda: next((j for j in httpx.get(f"{a}/api/generate/jobs", timeout=10).json()["jobs"]
                                           if j["job_id"] != job_id), None), timeout_s=60, what="the studio's job")
            expect(ui.design).to_have_attribute("src", re.compile(new["job_id"]), timeout=60_000)
            expect(ui.status_rows("completed")).to_have_count(1)
        finally:
            context.close()
        used = [index for index, count in proxy.requests_by_backend.items() if count]
        assert len(used) == 1, f"the browser's requests were spread over backends {dict(proxy.requests_by_backend)}"

    assert status(b, new["job_id"])["status"] == "completed"
    # B applied both completions; A counts them all the same: one registry for the deployment
    assert completed_total(a) >= 2 and completed_total(a) == completed_total(b)
