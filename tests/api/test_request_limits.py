"""One request-size limit for every route, enforced before the body is read; bounded JSON depth."""

from __future__ import annotations

import json
import logging
import select
import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.limits import JsonDepthGauge
from app import create_app
from core.auth import SqliteAccountStore
from core.jobs.service import GenerateCommand
from core.worker_contract.webhooks import WebhookSigner
from tests.support.apps import make_settings
from tests.support.servers import LiveServer

LIMIT = 64 * 1024
UPLOAD_LIMIT = 200 * 1024
JOB = {"prompt": "a red fox", "style": "anime", "product": "mug"}


class CountingApp:
    """Sits between uvicorn and the app: counts the body bytes the app pulled off the socket."""

    def __init__(self, app) -> None:
        self.app = app
        self.consumed = 0

    async def __call__(self, scope, receive, send) -> None:
        async def counting_receive():
            message = await receive()
            if message["type"] == "http.request":
                self.consumed += len(message.get("body", b""))
            return message

        await self.app(scope, counting_receive, send)


@pytest.fixture
def signed_in_app(tmp_path):
    """The real app with sign-in on (an account exists) and small limits."""
    settings = make_settings(tmp_path, TENKAIGEN_MAX_REQUEST_BYTES=LIMIT, TENKAIGEN_MAX_UPLOAD_BYTES=UPLOAD_LIMIT)
    store = SqliteAccountStore(settings.sqlite_path)
    store.add("alice", "alice-pass-1")
    store.close()
    return create_app(settings)


@pytest.fixture
def live(signed_in_app) -> Iterator[tuple[str, int, CountingApp]]:
    counting = CountingApp(signed_in_app)
    with LiveServer(counting) as server:
        yield "127.0.0.1", server.port, counting


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("path", ["/api/parse-prompt", "/gradio_api/queue/join", "/gradio_api/call/generate"])
def test_a_declared_oversized_body_without_credentials_is_refused_before_one_byte_is_read(live, path):
    host, port, counting = live
    with socket.create_connection((host, port), timeout=10) as sock:
        # 200 MB announced, not one byte sent: the answer can only come without reading it
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {200 * 1000 * 1000}\r\n\r\n".encode())
        status, headers, body = read_response(sock)
    assert status == 413
    assert json.loads(body) == {"detail": f"request body over the limit of {LIMIT} bytes"}
    assert headers["connection"] == "close"
    assert counting.consumed == 0


def test_a_chunked_body_is_cut_off_once_past_the_limit(live):
    host, port, counting = live
    chunk = b"x" * 16 * 1024
    sent = 0
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"POST /api/parse-prompt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        # keep sending (up to 200 MB) until the server answers
        while sent < 200 * 1000 * 1000 and not select.select([sock], [], [], 0)[0]:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            # give the server the chance to answer before the next chunk: an answer that
            # arrives while the client is still sending is lost to the connection's reset
            select.select([sock], [], [], 0.05)
        status, headers, body = read_response(sock)
    assert status == 413
    assert json.loads(body)["detail"] == f"request body over the limit of {LIMIT} bytes"
    assert counting.consumed <= LIMIT + 64 * 1024  # the limit and at most one read past it
    assert sent < 200 * 1000 * 1000  # the answer came while the client was still sending


def test_a_studio_upload_over_the_limit_is_refused_and_one_under_it_is_stored(tmp_path):
    settings = make_settings(tmp_path, TENKAIGEN_MAX_REQUEST_BYTES=LIMIT, TENKAIGEN_MAX_UPLOAD_BYTES=UPLOAD_LIMIT)
    with TestClient(create_app(settings)) as client:
        refused = client.post("/gradio_api/upload", files={"files": ("big.png", b"x" * (UPLOAD_LIMIT + 100 * 1024))})
        assert refused.status_code == 413
        assert "detail" in refused.json()
        accepted = client.post("/gradio_api/upload", files={"files": ("small.png", b"x" * (UPLOAD_LIMIT - 1024))})
        assert accepted.status_code == 200 and len(accepted.json()) == 1


def test_gradio_is_told_the_upload_limit_per_file(tmp_path):
    settings = make_settings(tmp_path, TENKAIGEN_MAX_UPLOAD_BYTES=UPLOAD_LIMIT)
    with TestClient(create_app(settings)) as client:
        config = client.get("/config").json()
    assert config["max_file_size"] == UPLOAD_LIMIT


def test_json_routes_still_take_a_body_within_the_limit(tmp_path):
    settings = make_settings(tmp_path, TENKAIGEN_MAX_REQUEST_BYTES=LIMIT)
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/parse-prompt", json=JOB).status_code == 200
        # JSON whitespace between the tokens: a body just under the limit, every field valid
        padded = json.dumps(JOB).replace(", ", "," + " " * ((LIMIT - 200) // 2), 2).encode()
        assert LIMIT - 400 < len(padded) < LIMIT
        assert client.post("/api/parse-prompt", content=padded,
                           headers={"content-type": "application/json"}).status_code == 200


def deep(levels: int) -> bytes:
    return b'{"prompt": ' + b"[" * levels + b"]" * levels + b', "style": "anime", "product": "mug"}'


@pytest.mark.parametrize("levels", [40, 900, 100_000])
@pytest.mark.parametrize("path", ["/api/parse-prompt", "/gradio_api/queue/join", "/gradio_api/call/generate"])
def test_a_json_body_nested_too_deep_is_refused_with_a_message(tmp_path, path, levels):
    with TestClient(create_app(make_settings(tmp_path)), raise_server_exceptions=False) as client:
        refused = client.post(path, content=deep(levels), headers={"content-type": "application/json"})
    assert refused.status_code == 422
    assert refused.json() == {"detail": "JSON body nested deeper than 32 levels"}


@pytest.fixture
def webhook_client(tmp_path, webhook_secret) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, TENKAIGEN_WEBHOOK_SECRET=webhook_secret)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def signed_post(client: TestClient, secret: str, body: bytes, content_type: str = "application/json"):
    headers = WebhookSigner(secret).headers(body)
    headers["content-type"] = content_type
    return client.post("/api/generate/webhook", content=body, headers=headers)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_signed_webhook_nested_too_deep_is_refused_not_a_server_error(webhook_client, webhook_secret, content_type):
    body = b"[" * 100_000 + b"]" * 100_000
    response = signed_post(webhook_client, webhook_secret, body, content_type)
    assert response.status_code == 422


@pytest.mark.parametrize("extra", [
    {"status": "failed", "error": "boom", "seed": 2**63},
    {"status": "processing", "progress": {"step": 2**63, "total": 2**63 + 5}},
    {"status": "processing", "progress": {"step": 1, "total": 2**31}},
])
def test_a_signed_webhook_with_integers_too_large_to_store_is_refused_not_a_server_error(
    webhook_client, webhook_secret, extra
):
    job = webhook_client.app.state.services.generation.create_job("local", GenerateCommand(**JOB))
    body = json.dumps({"job_id": job.id, **extra}).encode()
    response = signed_post(webhook_client, webhook_secret, body)
    assert response.status_code == 422, response.text


def test_the_webhook_keeps_its_own_larger_limit(webhook_client, webhook_secret):
    # 2 MB: over the JSON routes' 1 MiB, well within the webhook's 32 MB
    body = b'{"job_id": "nope", "status": "failed", "error": "' + b"e" * 2_000_000 + b'"}'
    response = signed_post(webhook_client, webhook_secret, body)
    assert response.status_code == 404  # read, verified, and the job looked up


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 1000])
def test_the_depth_gauge_counts_brackets_outside_strings_only_across_chunks(chunk_size):
    text = json.dumps({"a": "[[[[{{{{ \\\" ]]]", "b": [[["\\\\", {"c": "\"[[["}]]]}).encode()
    assert json.loads(text)

    def depth_ok(data: bytes, max_depth: int) -> bool:
        gauge = JsonDepthGauge(max_depth)
        return all(gauge.feed(data[i:i + chunk_size]) for i in range(0, len(data), chunk_size))

    assert depth_ok(text, 5)  # {, [, [, [, { is five deep
    assert not depth_ok(text, 4)
    assert depth_ok(b"[" * 32 + b"]" * 32, 32) and not depth_ok(b"[" * 33 + b"]" * 33, 32)


def test_a_forged_log_line_in_a_job_id_is_escaped(tmp_path, caplog):
    with TestClient(create_app(make_settings(tmp_path))) as client, caplog.at_level(logging.INFO, logger="api.errors"):
        assert client.get("/api/generate/status/abc%0aINFO%20forged%20line").status_code == 404
    [record] = [r for r in caplog.records if r.name == "api.errors"]
    assert "\n" not in record.getMessage()
    assert "abc\\nINFO forged line" in record.getMessage()
