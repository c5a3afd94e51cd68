"""Posting signed results to the app's webhook, with retries where a retry can help.

Each message keeps one `webhook-id` across its attempts (the app treats repeats as one) and is
signed afresh per attempt, so a retry minutes later is never refused as stale. Applying a
result is idempotent on the app's side, which is what makes retrying safe.
"""

from __future__ import annotations

import enum
import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from core.worker_contract.webhooks import WebhookPayload, WebhookSigner

log = logging.getLogger(__name__)

# 8 tries over about four minutes: long enough to ride out an app restart or a storage blip.
DEFAULT_BACKOFF_S: tuple[float, ...] = (2, 4, 8, 16, 32, 64, 128)
MAX_RETRY_AFTER_S = 300.0


class DeliveryOutcome(enum.StrEnum):
    DELIVERED = "delivered"
    JOB_GONE = "job gone"  # 409: the job was canceled or already finished; nothing left to do
    REJECTED = "rejected"  # another 4xx: the same body would be refused again
    GAVE_UP = "gave up"  # retries exhausted, or the worker is shutting down


@dataclass(frozen=True)
class DeliveryReport:
    outcome: DeliveryOutcome
    attempts: int
    status_code: int | None = None
    error: str | None = None


def is_retryable(status_code: int) -> bool:
    return status_code >= 500 or status_code in (408, 429)


class WebhookSender:
    """Signs and posts `WebhookPayload`s. `backoff_s` is the wait before each retry."""

    def __init__(
        self,
        secret: str,
        *,
        timeout_s: float = 15.0,
        backoff_s: Sequence[float] = DEFAULT_BACKOFF_S,
        client: httpx.Client | None = None,
    ) -> None:
        self._signer = WebhookSigner(secret)
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)))
        self._backoff = tuple(backoff_s)
        self._closing = threading.Event()

    def deliver(self, url: str, payload: WebhookPayload) -> DeliveryReport:
        """Post until the app takes it, refuses it for good, or the backoff schedule runs out."""
        body = payload.model_dump_json(exclude_none=True).encode()
        msg_id = f"msg_{uuid.uuid4().hex}"
        attempts = 0
        while True:
            attempts += 1
            status, error, retry_after = self._post(url, body, msg_id)
            if status is not None and status < 300:
                log.info("webhook delivered job_id=%s status=%s attempts=%d", payload.job_id, payload.status, attempts)
                return DeliveryReport(DeliveryOutcome.DELIVERED, attempts, status)
            if status == 409:
                log.info("webhook refused, job gone job_id=%s status=%s", payload.job_id, payload.status)
                return DeliveryReport(DeliveryOutcome.JOB_GONE, attempts, status, error)
            if status is not None and not is_retryable(status):
                log.error("webhook rejected job_id=%s http_status=%s error=%s", payload.job_id, status, error)
                return DeliveryReport(DeliveryOutcome.REJECTED, attempts, status, error)
            log.warning("webhook attempt failed job_id=%s attempt=%d http_status=%s error=%s",
                        payload.job_id, attempts, status, error)
            if attempts > len(self._backoff):
                break
            wait_s = max(self._backoff[attempts - 1], min(retry_after or 0.0, MAX_RETRY_AFTER_S))
            if self._closing.wait(wait_s):
                break
        log.error("webhook delivery gave up job_id=%s status=%s attempts=%d last_http_status=%s last_error=%s",
                  payload.job_id, payload.status, attempts, status, error)
        return DeliveryReport(DeliveryOutcome.GAVE_UP, attempts, status, error)

    def post_once(self, url: str, payload: WebhookPayload, timeout_s: float) -> int | None:
        """One attempt with a short timeout (progress events): the status code, or None if unreachable."""
        body = payload.model_dump_json(exclude_none=True).encode()
        status, _, _ = self._post(url, body, f"msg_{uuid.uuid4().hex}", timeout_s=timeout_s)
        return status

    def _post(
        self, url: str, body: bytes, msg_id: str, timeout_s: float | None = None
    ) -> tuple[int | None, str | None, float | None]:
        headers = self._signer.headers(body, msg_id=msg_id)
        try:
            kwargs = {"timeout": timeout_s} if timeout_s is not None else {}
            response = self._client.post(url, content=body, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}", None
        except RuntimeError:  # the client is closed: the worker is shutting down
            if not self._closing.is_set():
                raise
            return None, "the worker is shutting down", None
        if response.status_code < 300:
            return response.status_code, None, None
        return response.status_code, response.text[:300], _retry_after(response)

    def close(self) -> None:
        """Stop waiting between retries (shutdown) and release connections."""
        self._closing.set()
        self._client.close()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
