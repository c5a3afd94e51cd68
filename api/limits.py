"""What one request may carry, enforced where every request passes (API, studio, webhook).

`RequestLimits` is a pure ASGI middleware in front of the whole app, Gradio included:

- a declared `Content-Length` over the path's limit is answered 413 at once: the app (and
  its auth check) never runs and not one byte of the body is read;
- a body without one (chunked) is counted as the app reads it and cut off with 413 the
  moment it passes the limit;
- a JSON body nested deeper than `max_json_depth` is refused with 422 as it streams in,
  before any parser recurses into it.

Refusals use the app's one error body shape, `{"detail": "..."}`, and close the
connection so the client stops sending. The middleware also records the client's
address for sign-in throttling (core/auth/throttle.py), since Gradio's login function is
not given the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.routes.generate import MAX_WEBHOOK_BYTES
from core.auth.throttle import client_address
from core.settings import Settings

# Gradio's upload route (the studio is mounted at /); Gradio bounds each file itself
STUDIO_UPLOAD_PATH = "/gradio_api/upload"
# the multipart framing around one uploaded file: boundaries, part headers, a file name
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def install_request_limits(app: FastAPI, settings: Settings) -> None:
    """Put `RequestLimits` in front of `app`: the settings' limit for every route, the
    webhook's own (api/deps.py) for the webhook, one file's worth for the studio's uploads."""
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_request_bytes,
        max_json_depth=settings.max_json_depth,
        body_bytes_by_path={
            app.url_path_for("generation_webhook"): MAX_WEBHOOK_BYTES,
            STUDIO_UPLOAD_PATH: settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES,
        },
    )


class RequestRefused(HTTPException):
    """Raised from `receive` when the body passes a limit. An HTTPException, so FastAPI's
    body parsing lets it through instead of turning it into a 400."""


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_json_depth: int,
                 body_bytes_by_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.body_bytes_by_path = dict(body_bytes_by_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = client_address.set(client[0] if client else None)
        try:
            await self._limited(scope, receive, send)
        finally:
            client_address.reset(token)

    def limit_for(self, scope: Scope) -> int:
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        return self.body_bytes_by_path.get(path, self.max_body_bytes)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope)
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, 413, _too_large(limit))
            return
        gauge = JsonDepthGauge(self.max_json_depth) if _is_json(headers.get("content-type")) else None
        body = _BodyGuard(receive, limit, gauge)
        started = replied = False

        async def guarded_send(message: Message) -> None:
            nonlocal started, replied
            if body.refusal is not None:
                # the app answered the cut-off body its own way (a 400, a 500): say why instead
                if not started and not replied:
                    replied = True
                    await _refuse(send, body.refusal.status_code, body.refusal.detail)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, body.receive, guarded_send)
        except RequestRefused as exc:
            if not started and not replied:
                await _refuse(send, exc.status_code, exc.detail)


class _BodyGuard:
    """The app's `receive`: passes the body on while it is within the limits."""

    def __init__(self, receive: Receive, limit: int, gauge: JsonDepthGauge | None) -> None:
        self._receive = receive
        self._limit = limit
        self._gauge = gauge
        self._seen = 0
        self.refusal: RequestRefused | None = None

    async def receive(self) -> Message:
        if self.refusal is not None:
            raise self.refusal
        message = await self._receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            self._seen += len(chunk)
            if self._seen > self._limit:
                self.refusal = RequestRefused(413, _too_large(self._limit))
            elif self._gauge is not None and not self._gauge.feed(chunk):
                self.refusal = RequestRefused(422, f"JSON body nested deeper than {self._gauge.max_depth} levels")
            if self.refusal is not None:
                raise self.refusal
        return message


def _too_large(limit: int) -> str:
    return f"request body over the limit of {limit} bytes"


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # the client may still be sending the rest: closing tells it to stop
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body})


# outside strings only brackets and quotes matter; inside, everything up to the closing
# quote is skipped in one match (escapes included), so a long string costs no Python loop
_STRUCTURE = re.compile(rb'[\[\]{}"]')
_STRING_REST = re.compile(rb'(?:[^"\\]+|\\.)*', re.DOTALL)
_OPENERS = frozenset(b"[{")
_QUOTE = ord('"')


class JsonDepthGauge:
    """Follows a JSON text's nesting depth chunk by chunk, without parsing or keeping it.

    `feed` returns False once the depth passes `max_depth`. Malformed JSON is the parser's
    business: the gauge only has to be right about depth for text that parses.
    """

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.depth = 0
        self._in_string = False
        self._escape_pending = False  # a chunk ended on a backslash inside a string

    def feed(self, chunk: bytes) -> bool:
        pos, end = 0, len(chunk)
        while pos < end:
            if self._in_string:
                if self._escape_pending:
                    self._escape_pending = False
                    pos += 1
                    continue
                pos = _STRING_REST.match(chunk, pos).end()
                if pos >= end:
                    return True
                if chunk[pos] != _QUOTE:  # a backslash, the chunk's last byte
                    self._escape_pending = True
                    return True
                self._in_string = False
                pos += 1
                continue
            found = _STRUCTURE.search(chunk, pos)
            if found is None:
                return True
            pos = found.end()
            char = chunk[found.start()]
            if char == _QUOTE:
                self._in_string = True
            elif char in _OPENERS:
                self.depth += 1
                if self.depth > self.max_depth:
                    return False
            else:
                self.depth -= 1
        return True
