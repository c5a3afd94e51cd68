"""GET /api/ready: 503 naming what does not answer, 200 again once it does; probes kept briefly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.ops.readiness import Readiness
from core.storage import LocalObjectStore
from tests.support.apps import make_settings
from tests.support.postgres import ThrowawayPostgres, fresh_database
from tests.support.servers import free_port


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    """A server of this test's own, to stop and start again."""
    with ThrowawayPostgres() as server:
        yield server


@pytest.mark.slow
@pytest.mark.postgres
def test_readiness_fails_while_the_database_is_down_and_recovers(tmp_path, own_postgres):
    with fresh_database(own_postgres.admin_url, "tenkaigen_ready") as url:
        app = create_app(make_settings(tmp_path, DATABASE_URL=url))
        app.state.readiness = Readiness(app.state.services.settings, app.state.services.generation.objects, cache_s=0)
        client = TestClient(app)
        assert client.get("/api/ready").status_code == 200

        own_postgres.pause()
        down = client.get("/api/ready")
        assert down.status_code == 503
        body = down.json()
        assert body["checks"]["database"]["ok"] is False and "database" in body["detail"]
        assert body["checks"]["storage"]["ok"] is True
        assert client.get("/api/health").status_code == 200  # alive all the same: nothing to restart

        own_postgres.resume()
        assert client.get("/api/ready").status_code == 200
        app.state.services.close()


def test_a_worker_that_does_not_answer_makes_the_app_not_ready(tmp_path):
    settings = make_settings(tmp_path, MODAL_GENERATE_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_a_modal_worker_is_not_woken_by_the_probe(tmp_path):
    # any request starts (and keeps warm) a GPU container: doctor checks it, readiness does not
    settings = make_settings(tmp_path, MODAL_GENERATE_ENDPOINT="https://me--tenkaigen-qwen-generator-web.modal.run")
    report = Readiness(settings, object_store_stub(tmp_path)).check()
    worker = {probe.name: probe for probe in report.probes}["worker"]
    assert worker.ok and "not probed" in worker.detail


def test_the_result_is_kept_for_the_cache_period(tmp_path):
    now = [100.0]
    readiness = Readiness(make_settings(tmp_path), object_store_stub(tmp_path), cache_s=2, clock=lambda: now[0])
    first = readiness.check()
    now[0] += 1
    assert readiness.check() is first
    now[0] += 2
    assert readiness.check() is not first


def object_store_stub(tmp_path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects", prefix="ai-generated/")
