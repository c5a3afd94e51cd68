"""Signed result webhooks (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature).

The worker signs with `WebhookSigner`; the app checks with `verify_webhook`. The secret is a
`whsec_...` string shared through `TENKAIGEN_WEBHOOK_SECRET`; when that is unset the app
creates one in its data folder (`ensure_webhook_secret`) so every process of one deployment
uses the same.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import uuid
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.errors import InvalidRequest, WebhookRejected
from core.worker_contract.messages import WebhookPayload, WebhookProgress

# The payload models live in `messages`; they are named here too for code that signs or verifies them.
__all__ = [
    "SignatureRejected",
    "SignedRequestAuth",
    "WebhookPayload",
    "WebhookProgress",
    "WebhookSigner",
    "ensure_webhook_secret",
    "generate_webhook_secret",
    "is_placeholder_secret",
    "verify_signature",
    "verify_webhook",
]

SECRET_PREFIX = "whsec_"
PLACEHOLDER_SECRETS = frozenset({"", "whsec_", "changeme", "your_webhook_secret", "whsec_changeme"})


class SignatureRejected(WebhookRejected):
    """A signed body's signature or timestamp is not acceptable (the app answers 401, so does the worker)."""


def generate_webhook_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def ensure_webhook_secret(data_dir: Path) -> str:
    """The secret stored in `data_dir/webhook_secret`, created once (race-free across processes)."""
    path = data_dir / "webhook_secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_webhook_secret())
    return path.read_text().strip()


def is_placeholder_secret(secret: str | None) -> bool:
    return secret is None or secret.strip().lower() in PLACEHOLDER_SECRETS


class WebhookSigner:
    """Signs outgoing webhook bodies (used by workers and by tests acting as one)."""

    def __init__(self, secret: str) -> None:
        self._webhook = Webhook(secret)

    def headers(self, body: bytes, *, msg_id: str | None = None, timestamp: datetime | None = None) -> dict[str, str]:
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        timestamp = timestamp or datetime.now(UTC)
        signature = self._webhook.sign(msg_id, timestamp, body.decode())
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature,
            "content-type": "application/json",
        }

    def signed_body(self, payload: WebhookPayload) -> tuple[bytes, dict[str, str]]:
        body = payload.model_dump_json(exclude_none=True).encode()
        return body, self.headers(body)


class SignedRequestAuth(httpx.Auth):
    """httpx auth that signs each request body the Standard Webhooks way.

    The app signs its dispatches to the worker with it, so a worker's public URL alone
    cannot spend GPU time; the worker checks them with `verify_signature`.
    """

    requires_request_body = True

    def __init__(self, secret: str) -> None:
        self._signer = WebhookSigner(secret)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        signed = self._signer.headers(request.content)
        signed.pop("content-type")
        request.headers.update(signed)
        yield request


def verify_signature(secret: str, body: bytes, headers: dict[str, str]) -> None:
    """Accept a correctly signed, fresh body; raise SignatureRejected otherwise."""
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError as exc:
        raise SignatureRejected(f"signature rejected: {exc}") from exc
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        # malformed signature header ("v1" without a comma, bad base64)
        raise SignatureRejected("signature rejected: malformed signature header") from exc


def verify_webhook(secret: str, body: bytes, headers: dict[str, str]) -> WebhookPayload:
    """The payload of a correctly signed, fresh webhook; raises SignatureRejected or InvalidRequest otherwise."""
    verify_signature(secret, body, headers)
    try:
        return WebhookPayload.model_validate(json.loads(body))
    except (ValueError, ValidationError, RecursionError) as exc:
        raise InvalidRequest(f"webhook body is not a valid result: {exc}") from exc
