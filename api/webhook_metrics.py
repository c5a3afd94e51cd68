"""Counts the answers the app gives the GPU worker's webhook deliveries, by status code.

A pure ASGI middleware, so every answer counts: signature refusals (401), unknown jobs
(404), illegal transitions (409), body limits (413) and storage outages (503) alike.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.ops import metrics


class WebhookResults:
    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                metrics.webhook_answered(message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)
