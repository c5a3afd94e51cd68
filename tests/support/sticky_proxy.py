"""A reverse proxy with sticky sessions for the tests: what nginx or Caddy does in front of
`python app.py --workers N` (docs/deployment.md), small enough to read.

An ASGI app (run it under tests.support.servers.LiveServer): a request without the proxy's
cookie goes to the next backend in turn, and the answer sets the cookie naming that backend;
a request with it goes to the same backend again. Bodies stream both ways, unbuffered, so
Gradio's server-sent events arrive as they are sent. The Host header is passed through, so
the app builds its URLs for the proxy's address.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from http.cookies import SimpleCookie

import httpx
from starlette.types import Message, Receive, Scope, Send

COOKIE = "tenkaigen_backend"
# hop-by-hop headers are the proxy's own business, on each side
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade"}


class StickyProxy:
    def __init__(self, backends: Sequence[str]) -> None:
        self.backends = [url.rstrip("/") for url in backends]
        self.requests_by_backend: Counter[int] = Counter()
        self._turn = itertools.cycle(range(len(self.backends)))
        # no read timeout: an event stream stays open while a job runs
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None), follow_redirects=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._proxy(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _pick(self, headers: list[tuple[bytes, bytes]]) -> tuple[int, bool]:
        """(backend index, whether the client is new and gets the cookie)."""
        for name, value in headers:
            if name == b"cookie":
                morsel = SimpleCookie(value.decode("latin-1")).get(COOKIE)
                if morsel is not None and morsel.value.isdigit() and int(morsel.value) < len(self.backends):
                    return int(morsel.value), False
        return next(self._turn), True

    async def _proxy(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = list(scope["headers"])
        index, new_client = self._pick(headers)
        self.requests_by_backend[index] += 1
        query = scope.get("query_string", b"")
        url = self.backends[index] + scope["raw_path"].decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
        forward = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers if k.decode("latin-1") not in HOP_BY_HOP]
        request = self._client.build_request(scope["method"], url, headers=forward, content=_body(receive))
        response = await self._client.send(request, stream=True)
        try:
            answer = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.multi_items()
                      if k.lower() not in HOP_BY_HOP]
            if new_client:
                answer.append((b"set-cookie", f"{COOKIE}={index}; Path=/; HttpOnly; SameSite=Lax".encode()))
            await send({"type": "http.response.start", "status": response.status_code, "headers": answer})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
