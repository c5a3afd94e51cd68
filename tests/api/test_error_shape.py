"""One error body, `{"detail": "..."}`, for every error the API answers, and the OpenAPI
document states it (with the statuses each route can answer)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from tests.support.apps import make_settings

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture
def client(tmp_path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client


@pytest.fixture
def openapi(client) -> dict:
    return client.get("/openapi.json").json()


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        ("post", "/api/generate", {"prompt": "a fox"},
         "style: Field required (or give variation_of / retry_of); product: Field required (or give variation_of / retry_of)"),
        ("post", "/api/generate", {"prompt": "a fox", "style": "anime", "product": "mug", "seed": -1},
         "seed: Input should be greater than or equal to 0"),
        ("post", "/api/parse-prompt", [1], "the request body: Input should be a valid dictionary"),
        ("get", "/api/generate/jobs?limit=0", None, "query parameter limit: Input should be greater than or equal to 1"),
    ],
    ids=["missing-fields", "negative-seed", "not-an-object", "bad-query"],
)
def test_a_request_that_fails_validation_gets_422_with_one_sentence_naming_the_field(client, method, path, body, detail):
    response = client.request(method, path, json=body)
    assert response.status_code == 422
    assert set(response.json()) == {"detail"} and response.json()["detail"].startswith(detail)


def test_a_body_that_is_not_json_gets_422_saying_so(client):
    response = client.post("/api/generate", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("the request body is not valid JSON")


@pytest.mark.parametrize("path", ["/api/generate", "/api/parse-prompt"])
def test_a_body_that_is_not_utf8_gets_the_400_the_document_states(client, openapi, path):
    response = client.post(path, content=b"\x04\xff\xfeg", headers={"content-type": "application/json"})
    assert response.status_code == 400 and set(response.json()) == {"detail"}
    assert "400" in openapi["paths"][path]["post"]["responses"]


def test_a_hundred_bad_fields_make_one_bounded_sentence(client):
    response = client.post("/api/generate", json={"prompt": "a fox", "style": 1, "product": 2, "seed": "x",
                                                  "negative_prompt": "n" * 100_000})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "style:" in detail and "seed:" in detail and len(detail) < 2000


def test_every_error_answer_in_the_document_is_the_one_error_body(openapi):
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    assert openapi["components"]["schemas"]["ErrorBody"]["properties"]["detail"]["type"] == "string"
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2"):
                    assert response["content"]["application/json"]["schema"] == ERROR_BODY, (method, path, status)


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/api/generate", {"401", "413", "422", "429"}),
        ("get", "/api/generate/status/{job_id}", {"401", "404", "429"}),
        ("post", "/api/generate/{job_id}/cancel", {"401", "404", "409"}),
        ("post", "/api/generate/{job_id}/print-file", {"401", "404", "409", "503"}),
        ("post", "/api/generate/webhook", {"401", "404", "409", "413", "422", "503"}),
        ("get", "/api/admin/users/{user_id}/quota", {"401", "403", "429"}),
        ("get", "/api/me", {"401", "429"}),
    ],
)
def test_the_document_lists_the_errors_each_route_answers(openapi, method, path, statuses):
    responses = openapi["paths"][path][method]["responses"]
    assert statuses <= set(responses)


def test_the_document_names_the_headers_of_401_and_429(openapi):
    responses = openapi["paths"]["/api/generate"]["post"]["responses"]
    assert "WWW-Authenticate" in responses["401"]["headers"] and "Retry-After" in responses["429"]["headers"]
