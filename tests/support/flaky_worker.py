"""A GPU worker stand-in that misbehaves on purpose, for fault-injection tests.

It is a plain ASGI app (run it under `LiveServer`). Each dispatch takes the next action of
its plan, then "ok" once the plan is used up:
- "500" (any status code): answers with that status;
- "drop": starts a response and drops the connection halfway (the client sees a broken
  connection, as when a proxy or the worker dies mid-answer);
- "ok": answers 202 and posts the signed completed webhook from a thread;
- "ok-twice": as "ok", and delivers the same webhook a second time (a retried delivery);
- "hold": answers 202 and never calls back.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.worker_contract.webhooks import WebhookPayload, WebhookSigner
from tests.support.fake_worker import solid_png


@dataclass
class FlakyWorker:
    secret: str
    plan: list[str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)
    idempotency_keys: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted_job_ids(self) -> list[str]:
        """Job ids the worker answered 202 for, in order (a job twice here ran twice)."""
        return [b["job_id"] for b, a in zip(self.received, self.actions, strict=True) if a in {"ok", "ok-twice", "hold"}]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        job = json.loads(body)
        with self._lock:
            action = self.plan.pop(0) if self.plan else "ok"
            self.received.append(job)
            self.idempotency_keys.append(dict(scope["headers"]).get(b"idempotency-key", b"").decode())
            self.actions.append(action)
        if action.isdigit():
            await _answer(send, int(action), b'{"detail": "worker says no"}')
        elif action == "drop":
            await send({"type": "http.response.start", "status": 202, "headers": [(b"content-length", b"100")]})
            await send({"type": "http.response.body", "body": b'{"job_id"', "more_body": True})
            raise ConnectionAbortedError("flaky worker drops the connection on purpose")
        else:
            await _answer(send, 202, json.dumps({"job_id": job["job_id"], "status": "accepted"}).encode())
            if action != "hold":
                times = 2 if action == "ok-twice" else 1
                threading.Thread(target=self._deliver, args=(job, times), daemon=True).start()

    def _deliver(self, job: dict[str, Any], times: int) -> None:
        png = solid_png(job["width"], job["height"])
        payload = WebhookPayload(
            job_id=job["job_id"], status="completed", image_base64=base64.b64encode(png).decode(), seed=job["seed"]
        )
        body, headers = WebhookSigner(self.secret).signed_body(payload)
        for _ in range(times):
            response = httpx.post(job["webhook_url"], content=body, headers=headers, timeout=10)
            with self._lock:
                self.deliveries.append(response.status_code)


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
