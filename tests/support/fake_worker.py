"""A stand-in GPU worker: a separate HTTP server that accepts dispatches with 202 and later
posts the signed result webhook, as the real worker does. It renders a small solid PNG."""

from __future__ import annotations

import base64
import io
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from PIL import Image

from core.errors import WebhookRejected
from core.worker_contract.webhooks import WebhookPayload, WebhookSigner, verify_signature


def solid_png(width: int, height: int, color: tuple[int, int, int] = (200, 40, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class FakeWorker:
    secret: str
    fail_with: str | None = None
    hold: bool = False  # accept jobs but never call back
    answer: dict[str, Any] = field(default_factory=dict)  # more of the 202's fields (queue_depth, gpu, ahead)
    received: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.get("/health")
        def health() -> dict[str, str]:
            return {"status": "ok"}

        @api.post("/generate", status_code=202)
        async def generate(request: Request) -> dict[str, Any]:
            raw = await request.body()
            try:
                verify_signature(self.secret, raw, dict(request.headers))  # as the real worker does
            except WebhookRejected as exc:
                raise HTTPException(401, str(exc)) from exc
            body = json.loads(raw)
            self.received.append(body)
            if not self.hold:
                threading.Thread(target=self._deliver, args=(body,), daemon=True).start()
            return {"job_id": body["job_id"], "status": "accepted", **self.answer}

        return api

    def _deliver(self, body: dict[str, Any]) -> None:
        if self.fail_with:
            payload = WebhookPayload(job_id=body["job_id"], status="failed", error=self.fail_with)
        else:
            png = solid_png(body["width"], body["height"])
            payload = WebhookPayload(
                job_id=body["job_id"],
                status="completed",
                image_base64=base64.b64encode(png).decode(),
                seed=body["seed"],
                timings={"total_s": 0.01},
            )
        data, headers = WebhookSigner(self.secret).signed_body(payload)
        response = httpx.post(body["webhook_url"], content=data, headers=headers, timeout=10)
        self.deliveries.append(response.status_code)
        self.done.set()
