"""Standard Webhooks signing as the app checks it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InvalidRequest, WebhookRejected
from core.worker_contract.webhooks import (
    SignatureRejected,
    WebhookPayload,
    WebhookSigner,
    ensure_webhook_secret,
    generate_webhook_secret,
    is_placeholder_secret,
    verify_signature,
    verify_webhook,
)


def payload() -> WebhookPayload:
    return WebhookPayload(job_id="j1", status="failed", error="boom")


def test_a_correctly_signed_webhook_is_accepted(webhook_secret):
    body, headers = WebhookSigner(webhook_secret).signed_body(payload())
    assert verify_webhook(webhook_secret, body, headers) == payload()


def test_a_webhook_signed_with_another_secret_is_rejected(webhook_secret):
    body, headers = WebhookSigner(generate_webhook_secret()).signed_body(payload())
    with pytest.raises(WebhookRejected):
        verify_webhook(webhook_secret, body, headers)


def test_a_tampered_body_is_rejected(webhook_secret):
    body, headers = WebhookSigner(webhook_secret).signed_body(payload())
    tampered = body.replace(b"failed", b"completed")
    with pytest.raises(WebhookRejected):
        verify_webhook(webhook_secret, tampered, headers)


def test_a_stale_webhook_is_rejected(webhook_secret):
    body = payload().model_dump_json().encode()
    headers = WebhookSigner(webhook_secret).headers(body, timestamp=datetime.now(UTC) - timedelta(minutes=10))
    with pytest.raises(WebhookRejected, match="too old"):
        verify_webhook(webhook_secret, body, headers)


@pytest.mark.parametrize("signature", ["", "v1", "v1,not base64!", "garbage"])
def test_malformed_signature_headers_are_rejected_not_crashing(webhook_secret, signature):
    body, headers = WebhookSigner(webhook_secret).signed_body(payload())
    headers["webhook-signature"] = signature
    with pytest.raises(WebhookRejected):
        verify_webhook(webhook_secret, body, headers)


def test_a_signed_body_that_is_not_a_result_is_invalid(webhook_secret):
    body = json.dumps({"job_id": "j1", "status": "exploded"}).encode()
    headers = WebhookSigner(webhook_secret).headers(body)
    with pytest.raises(InvalidRequest):
        verify_webhook(webhook_secret, body, headers)


def test_the_generated_secret_is_created_once_and_reused(tmp_path):
    first = ensure_webhook_secret(tmp_path)
    assert first.startswith("whsec_")
    assert ensure_webhook_secret(tmp_path) == first


def test_placeholder_secrets_are_recognised():
    assert is_placeholder_secret(None) and is_placeholder_secret("changeme")
    assert not is_placeholder_secret(generate_webhook_secret())


@pytest.mark.parametrize("ahead", [timedelta(days=365), timedelta(minutes=6)], ids=["a-year", "six-minutes"])
def test_a_webhook_stamped_in_the_future_beyond_the_tolerance_is_rejected(webhook_secret, ahead):
    """A timestamp is checked both ways: a signature made for a future moment is no fresher."""
    body = payload().model_dump_json().encode()
    headers = WebhookSigner(webhook_secret).headers(body, timestamp=datetime.now(UTC) + ahead)
    with pytest.raises(WebhookRejected, match="too new"):
        verify_webhook(webhook_secret, body, headers)
    with pytest.raises(SignatureRejected, match="too new"):
        verify_signature(webhook_secret, body, headers)  # the worker's check of a dispatch


def test_a_clock_a_little_ahead_is_within_the_tolerance(webhook_secret):
    body = payload().model_dump_json().encode()
    headers = WebhookSigner(webhook_secret).headers(body, timestamp=datetime.now(UTC) + timedelta(minutes=2))
    assert verify_webhook(webhook_secret, body, headers) == payload()
