"""The HTTP contract of /api/parse-prompt, /api/generate and /api/generate/status."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.jobs.limits import MAX_HISTORY_OFFSET
from core.jobs.service import GenerateCommand
from tests.support.apps import make_settings
from tests.support.servers import wait_until


@pytest.fixture
def client(tmp_path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client


def status_of(client: TestClient, job_id: str) -> dict:
    response = client.get(f"/api/generate/status/{job_id}")
    assert response.status_code == 200
    return response.json()


def test_parse_prompt_returns_the_brief(client):
    response = client.post("/api/parse-prompt", json={"prompt": "A cyberpunk samurai with neon lights", "style": "anime", "product": "mug"})
    assert response.status_code == 200
    parsed = response.json()["parsed"]
    assert parsed["subject"] == "cyberpunk samurai"
    assert (parsed["width"], parsed["height"]) == (2048, 800)  # the mug wrap's aspect


def test_generate_answers_202_pending_and_the_draft_completes(client):
    response = client.post("/api/generate", json={"prompt": "a red fox", "style": "watercolor", "product": "poster", "seed": 7})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    done = wait_until(lambda: (s := status_of(client, body["job_id"]))["status"] == "completed" and s, what="draft job")
    assert done["image_url"].startswith("http://testserver/media/ai-generated/local/")
    assert done["seed"] == 7 and done["processing_time_ms"] >= 0 and done["error"] is None
    image = client.get(done["image_url"])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")


def test_status_before_completion_has_no_image_url(client, tmp_path):
    # a job that was never dispatched stays pending
    service = client.app.state.services.generation
    job = service.create_job("local", GenerateCommand(prompt="a cat", style="anime", product="mug"))
    status = status_of(client, job.id)
    assert status["status"] == "pending" and status["image_url"] is None and status["completed_at"] is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"prompt": "", "style": "anime", "product": "mug"}, "prompt is empty"),
        ({"prompt": "   \n ", "style": "anime", "product": "mug"}, "prompt is empty"),
        ({"prompt": "x" * 1001, "style": "anime", "product": "mug"}, "prompt is too long"),
        ({"prompt": "a fox", "style": "baroque", "product": "mug"}, "unknown style 'baroque'"),
        ({"prompt": "a fox", "style": "anime", "product": "spaceship"}, "unknown product 'spaceship'"),
    ],
    ids=["empty", "blank", "too-long", "unknown-style", "unknown-product"],
)
def test_bad_generate_requests_get_422_with_a_message_and_store_nothing(client, body, message):
    response = client.post("/api/generate", json=body)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert client.app.state.services.generation.history("local") == []


def test_a_generate_request_missing_fields_gets_422(client):
    response = client.post("/api/generate", json={"prompt": "a fox"})
    assert response.status_code == 422
    assert response.json() == {"detail": "style: Field required (or give variation_of / retry_of); "
                                         "product: Field required (or give variation_of / retry_of)"}


def test_parse_prompt_refuses_an_unknown_product_with_422(client):
    response = client.post("/api/parse-prompt", json={"prompt": "a fox", "product": "spaceship"})
    assert response.status_code == 422 and "spaceship" in response.json()["detail"]


@pytest.mark.parametrize("job_id", ["00000000-0000-4000-8000-000000000000", "not-a-job"])
def test_an_unknown_job_id_is_404(client, job_id):
    response = client.get(f"/api/generate/status/{job_id}")
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


def test_catalog_lists_styles_and_products(client):
    styles = client.get("/api/styles").json()
    products = client.get("/api/products").json()
    assert len(styles) >= 12 and {"anime", "watercolor"} <= {s["id"] for s in styles}
    assert {"t-shirt", "mug", "poster"} <= {p["id"] for p in products}


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/parse-prompt", "/api/generate", "/api/generate/webhook", "/api/generate/status/{job_id}"} <= set(paths)


def test_a_pending_job_can_be_canceled_and_then_not_again(client):
    service = client.app.state.services.generation
    job = service.create_job("local", GenerateCommand(prompt="a cat", style="anime", product="mug"))
    first = client.post(f"/api/generate/{job.id}/cancel")
    assert first.status_code == 200 and first.json()["status"] == "canceled"
    second = client.post(f"/api/generate/{job.id}/cancel")
    assert second.status_code == 409


def test_a_history_offset_past_what_the_database_takes_is_422_not_a_server_error(client):
    # found by the OpenAPI conformance run: SQLite overflowed on the integer (500)
    response = client.get("/api/generate/jobs", params={"offset": 1527157263356334702592, "limit": 74})
    assert response.status_code == 422 and response.json()["detail"].startswith("query parameter offset:")
    assert client.get("/api/generate/jobs", params={"offset": MAX_HISTORY_OFFSET}).json() == {"jobs": []}


def done_status(client: TestClient, job_id: str) -> dict:
    return wait_until(lambda: (s := status_of(client, job_id))["status"] == "completed" and s, what=f"job {job_id}")


def test_a_batch_answers_every_job_id_with_consecutive_seeds_and_the_asked_steps(client):
    response = client.post("/api/generate", json={"prompt": "a red fox", "style": "anime", "product": "mug",
                                                  "seed": 10, "images": 3, "steps": 8})
    assert response.status_code == 202
    body = response.json()
    assert len(body["job_ids"]) == 3 and body["job_id"] == body["job_ids"][0] and body["status"] == "pending"
    finished = [done_status(client, job_id) for job_id in body["job_ids"]]
    assert [s["seed"] for s in finished] == [10, 11, 12]
    assert {s["steps"] for s in finished} == {8}


def test_the_edited_brief_is_what_the_job_records_and_the_status_shows(client):
    response = client.post("/api/generate", json={
        "prompt": "a red fox", "style": "anime", "product": "mug",
        "final_prompt": "  a red   fox leaping over a moon ", "final_negative_prompt": "text, watermark",
    })
    assert response.status_code == 202
    status = status_of(client, response.json()["job_id"])
    assert status["final_prompt"] == "a red fox leaping over a moon"
    assert status["final_negative_prompt"] == "text, watermark"
    assert (status["prompt"], status["style"], status["product"]) == ("a red fox", "anime", "mug")
    assert client.post("/api/generate", json={"prompt": "a fox", "style": "anime", "product": "mug",
                                              "final_prompt": "   "}).status_code == 422


def test_a_variation_gets_a_new_seed_and_a_retry_the_same_from_the_stored_brief(client):
    first = client.post("/api/generate", json={"prompt": "a red fox", "style": "anime", "product": "mug",
                                               "seed": 77, "final_prompt": "a red fox, ukiyo-e"}).json()["job_id"]
    original = done_status(client, first)
    retry = client.post("/api/generate", json={"retry_of": first})
    variations = client.post("/api/generate", json={"variation_of": first, "images": 2})
    assert retry.status_code == 202 and variations.status_code == 202
    retried = done_status(client, retry.json()["job_id"])
    varied = [done_status(client, job_id) for job_id in variations.json()["job_ids"]]
    assert retried["seed"] == 77 and retried["final_prompt"] == "a red fox, ukiyo-e"
    assert len(varied) == 2 and all(v["final_prompt"] == original["final_prompt"] for v in varied)
    assert all(v["seed"] != 77 for v in varied) and retried["job_id"] != first


@pytest.mark.parametrize(
    "body",
    [
        {"retry_of": "x", "variation_of": "y"},
        {"retry_of": "x", "prompt": "a fox"},
        {"variation_of": "x", "seed": 3},
        {"retry_of": "x", "images": 2},
        {"prompt": "a fox", "style": "anime", "product": "mug", "images": 5},
        {"prompt": "a fox", "style": "anime", "product": "mug", "images": 0},
        {"prompt": "a fox", "style": "anime", "product": "mug", "steps": 0},
    ],
    ids=["both-sources", "retry-with-prompt", "variation-with-seed", "retry-batch", "too-many", "none", "zero-steps"],
)
def test_contradictory_or_out_of_range_generate_bodies_get_422_and_store_nothing(client, body):
    assert client.post("/api/generate", json=body).status_code == 422
    assert client.get("/api/generate/jobs").json()["jobs"] == []


def test_a_variation_of_an_unknown_or_another_users_job_is_404(client):
    service = client.app.state.services.generation
    theirs = service.create_job("bob", GenerateCommand(prompt="a cat", style="anime", product="mug"))
    for source in (theirs.id, "00000000-0000-0000-0000-000000000000"):
        assert client.post("/api/generate", json={"variation_of": source}).status_code == 404
        assert client.post("/api/generate", json={"retry_of": source}).status_code == 404
