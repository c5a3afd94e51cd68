"""The HTTP contract of a user's history: GET /api/generate with filters, PUT .../favorite,
DELETE /api/generate/{job_id}; another user's job is 404 on every one of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.auth import SqliteAccountStore
from core.generators import GenerationOutcome
from core.jobs.service import GenerateCommand
from tests.api.test_auth_api import basic
from tests.support.apps import make_settings
from tests.support.fake_worker import solid_png

ALICE, BOB = basic("alice", "alice-pass-1"), basic("bob", "bob-pass-12")


@pytest.fixture
def client(tmp_path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path)
    accounts = SqliteAccountStore(settings.sqlite_path)
    accounts.add("alice", "alice-pass-1")
    accounts.add("bob", "bob-pass-12")
    accounts.close()
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def job(client: TestClient, status: str = "completed", product: str = "mug", style: str = "anime") -> str:
    """One of alice's jobs, brought to `status` without a generator (none is dispatched)."""
    service = client.app.state.services.generation
    made = service.create_job("alice", GenerateCommand(prompt="a red fox", style=style, product=product))
    if status == "completed":
        service.apply_outcome(GenerationOutcome(job_id=made.id, status="completed", png=solid_png(made.width, made.height)))
    elif status == "canceled":
        service.cancel("alice", made.id)
    return made.id


def listed(client: TestClient, query: str = "", headers: dict[str, str] = ALICE) -> list[str]:
    response = client.get(f"/api/generate{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [j["job_id"] for j in response.json()["jobs"]]


def test_the_list_filters_by_status_style_product_and_favourite(client):
    mug, poster, canceled = job(client), job(client, product="poster", style="watercolor"), job(client, "canceled")
    assert listed(client) == [canceled, poster, mug]
    assert listed(client, "?status=completed") == [poster, mug]
    assert listed(client, "?status=canceled&status=completed&product=mug") == [canceled, mug]
    assert listed(client, "?style=watercolor") == [poster]
    assert client.put(f"/api/generate/{mug}/favorite", json={"favorite": True}, headers=ALICE).json()["favorite"]
    assert listed(client, "?favorite=true") == [mug]
    assert listed(client, "?favorite=false") == [canceled, poster]
    assert client.get("/api/generate/jobs?favorite=true", headers=ALICE).json()["jobs"][0]["favorite"] is True
    assert listed(client, "?favorite=true", headers=BOB) == []


@pytest.mark.parametrize(("query", "message"), [("?style=baroque", "unknown style 'baroque'"),
                                                ("?product=spaceship", "unknown product 'spaceship'")])
def test_an_unknown_style_or_product_filter_is_422_with_a_message(client, query, message):
    response = client.get(f"/api/generate{query}", headers=ALICE)
    assert response.status_code == 422 and message in response.json()["detail"]


def test_an_unknown_status_filter_is_422(client):
    response = client.get("/api/generate?status=sleeping", headers=ALICE)
    assert response.status_code == 422 and "query parameter status" in response.json()["detail"]


def test_a_favourite_is_set_and_cleared(client):
    job_id = job(client, "pending")
    marked = client.put(f"/api/generate/{job_id}/favorite", json={"favorite": True}, headers=ALICE)
    assert marked.status_code == 200 and marked.json()["favorite"] is True and marked.json()["status"] == "pending"
    cleared = client.put(f"/api/generate/{job_id}/favorite", json={"favorite": False}, headers=ALICE)
    assert cleared.json()["favorite"] is False
    assert client.put(f"/api/generate/{job_id}/favorite", json={}, headers=ALICE).status_code == 422
    assert client.put(f"/api/generate/{job_id}/favorite", json={"favorite": 1}, headers=ALICE).status_code == 422


def test_delete_removes_the_job_and_its_images(client):
    job_id = job(client)
    objects = client.app.state.services.generation.objects
    key = client.app.state.services.generation.jobs.get(job_id).storage_key
    assert client.post(f"/api/generate/{job_id}/print-file", headers=ALICE).status_code == 200
    response = client.delete(f"/api/generate/{job_id}", headers=ALICE)
    assert response.status_code == 204 and response.content == b""
    assert not objects.exists(key) and not objects.exists(key.replace(".png", "_print.png"))
    assert client.get(f"/api/generate/status/{job_id}", headers=ALICE).status_code == 404
    assert client.delete(f"/api/generate/{job_id}", headers=ALICE).status_code == 404


def test_a_pending_job_is_not_deleted_409_until_canceled(client):
    job_id = job(client, "pending")
    refused = client.delete(f"/api/generate/{job_id}", headers=ALICE)
    assert refused.status_code == 409 and "cancel it before deleting it" in refused.json()["detail"]
    assert client.post(f"/api/generate/{job_id}/cancel", headers=ALICE).status_code == 200
    assert client.delete(f"/api/generate/{job_id}", headers=ALICE).status_code == 204


def test_another_users_job_is_404_to_favourite_and_delete(client):
    job_id = job(client)
    assert client.put(f"/api/generate/{job_id}/favorite", json={"favorite": True}, headers=BOB).status_code == 404
    assert client.delete(f"/api/generate/{job_id}", headers=BOB).status_code == 404
    assert listed(client, headers=BOB) == []
    assert listed(client) == [job_id]
    assert client.get(f"/api/generate/status/{job_id}", headers=ALICE).json()["favorite"] is False
