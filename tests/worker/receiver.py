"""A webhook receiver for worker tests: verifies each signature, records every attempt, and
answers the status codes a test scripts (then 200)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, Response

from core.errors import WebhookRejected
from core.worker_contract.webhooks import WebhookPayload, verify_webhook

HOOK_PATH = "/hook"


@dataclass(frozen=True)
class Attempt:
    webhook_id: str
    payload: WebhookPayload
    answered: int


@dataclass
class WebhookReceiver:
    secret: str
    url: str = ""  # set once its server runs
    final_answers: list[int] = field(default_factory=list)  # answers to results, in order; then 200
    progress_answer: int = 200
    attempts: list[Attempt] = field(default_factory=list)
    rejected_signatures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post(HOOK_PATH)
        async def hook(request: Request) -> Response:
            body = await request.body()
            try:
                payload = verify_webhook(self.secret, body, dict(request.headers))
            except WebhookRejected:
                self.rejected_signatures += 1
                return Response(status_code=401)
            with self._lock:
                if payload.status == "processing":
                    answer = self.progress_answer
                else:
                    answer = self.final_answers.pop(0) if self.final_answers else 200
                self.attempts.append(Attempt(request.headers["webhook-id"], payload, answer))
            return Response(status_code=answer)

        return api

    def results(self) -> list[Attempt]:
        """Attempts carrying a final status (completed or failed)."""
        with self._lock:
            return [a for a in self.attempts if a.payload.status != "processing"]

    def progress(self) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if a.payload.status == "processing"]

    def delivered_result(self) -> WebhookPayload | None:
        """The result the receiver accepted (answered 2xx), once it has."""
        accepted = [a for a in self.results() if a.answered < 300]
        return accepted[0].payload if accepted else None
