"""Text the app cannot store or must not draw answers 422 naming the field, on both job
stores; a history page out of range answers 422, never a database error (500)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from app import create_app
from tests.support.apps import make_settings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])])
def client(request: pytest.FixtureRequest, tmp_path) -> Iterator[TestClient]:
    """The app on each job store."""
    values = {}
    if request.param == "postgres":
        pg_url = request.getfixturevalue("pg_url")
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("TRUNCATE generation_jobs")
        values["DATABASE_URL"] = pg_url
    with TestClient(create_app(make_settings(tmp_path, **values))) as test_client:
        yield test_client


def post_raw(client: TestClient, body: str):
    """A JSON body as written, so escapes like \\u0000 and \\ud800 reach the app unchanged."""
    return client.post("/api/generate", content=body.encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("field", "escape", "message"),
    [
        ("prompt", r"\u0000", "prompt contains a NUL character (U+0000)"),
        ("prompt", r"\ud800", "prompt contains an unpaired surrogate (U+D800)"),
        ("negative_prompt", r"\u0000", "negative_prompt contains a NUL character (U+0000)"),
        ("negative_prompt", r"\ud800", "negative_prompt contains an unpaired surrogate (U+D800)"),
    ],
    ids=["prompt-nul", "prompt-surrogate", "negative-nul", "negative-surrogate"],
)
def test_a_nul_or_lone_surrogate_answers_422_naming_the_field_and_stores_nothing(client, field, escape, message):
    values = {"prompt": "a red fox", "negative_prompt": "blur"}
    values[field] = f"a red {escape} fox"
    body = ('{"style": "anime", "product": "mug", '
            + ", ".join(f'"{name}": "{value}"' for name, value in values.items()) + "}")
    response = post_raw(client, body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    # the service names what is wrong; the request schema (a field with a length limit) may
    # refuse the text first, naming the field
    assert detail.startswith(message) or detail.startswith(f"{field}: "), detail
    assert client.get("/api/generate/jobs").json()["jobs"] == []


def test_a_term_split_by_a_zero_width_space_is_refused(client):
    response = post_raw(client, '{"prompt": "Pik\\u200bachu surfing", "style": "anime", "product": "mug"}')
    assert response.status_code == 422
    assert response.json()["detail"].startswith("the prompt mentions 'Pikachu'")


def test_the_stored_prompt_is_the_normalised_one(client):
    response = post_raw(client, '{"prompt": "a red\\u200b\\tfox\\n in ＮＹＣ", "style": "anime", "product": "mug"}')
    assert response.status_code == 202
    assert client.get(f"/api/generate/status/{response.json()['job_id']}").json()["prompt"] == "a red fox in NYC"


@pytest.mark.parametrize(
    "query",
    ["offset=9223372036854775808", "offset=9223372036854775807", "offset=-1", "limit=9223372036854775808",
     "limit=0", "limit=101"],
)
def test_a_history_page_out_of_range_answers_422(client, query):
    response = client.get(f"/api/generate/jobs?{query}")
    assert response.status_code == 422, response.text


def test_the_furthest_history_page_answers_empty(client):
    assert client.get("/api/generate/jobs?offset=1000000&limit=100").json() == {"jobs": []}
