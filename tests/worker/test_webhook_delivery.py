"""WebhookSender against a real receiver on loopback: what is retried, what is final."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from core.worker_contract.webhooks import WebhookPayload
from modal_app.webhook_delivery import DEFAULT_BACKOFF_S, DeliveryOutcome, WebhookSender, is_retryable
from tests.support.servers import free_port

FAILED = WebhookPayload(job_id="job-1", status="failed", error="`width` must be a multiple of 16")


def test_the_default_schedule_tries_at_least_five_times_over_a_few_minutes():
    assert len(DEFAULT_BACKOFF_S) + 1 >= 5
    assert 60 <= sum(DEFAULT_BACKOFF_S) <= 600
    assert list(DEFAULT_BACKOFF_S) == sorted(DEFAULT_BACKOFF_S)


@pytest.mark.parametrize(("status", "retry"), [(500, True), (502, True), (503, True), (408, True), (429, True),
                                               (400, False), (401, False), (404, False), (413, False), (422, False)])
def test_server_errors_timeouts_and_throttling_are_retried_other_client_errors_are_not(status, retry):
    assert is_retryable(status) is retry


@pytest.fixture
def sender(webhook_secret: str) -> Iterator[WebhookSender]:
    webhooks = WebhookSender(webhook_secret, timeout_s=5, backoff_s=(0, 0, 0))
    yield webhooks
    webhooks.close()


@pytest.mark.slow
def test_a_retried_message_keeps_its_id_and_is_signed_afresh_each_time(sender, receiver):
    receiver.final_answers = [503, 429]
    report = sender.deliver(receiver.url, FAILED)
    assert (report.outcome, report.attempts, report.status_code) == (DeliveryOutcome.DELIVERED, 3, 200)
    assert [a.answered for a in receiver.attempts] == [503, 429, 200]
    assert len({a.webhook_id for a in receiver.attempts}) == 1
    assert receiver.rejected_signatures == 0 and receiver.delivered_result() == FAILED


@pytest.mark.slow
@pytest.mark.parametrize("status", [400, 401, 413, 422])
def test_a_client_error_is_final(sender, receiver, status, caplog):
    receiver.final_answers = [status]
    with caplog.at_level(logging.ERROR, logger="modal_app.webhook_delivery"):
        report = sender.deliver(receiver.url, FAILED)
    assert (report.outcome, report.attempts, report.status_code) == (DeliveryOutcome.REJECTED, 1, status)
    assert "webhook rejected job_id=job-1" in caplog.text


@pytest.mark.slow
def test_a_409_means_the_job_is_gone_and_stops_delivery(sender, receiver):
    receiver.final_answers = [409]
    report = sender.deliver(receiver.url, FAILED)
    assert (report.outcome, report.attempts) == (DeliveryOutcome.JOB_GONE, 1)


@pytest.mark.slow
def test_delivery_gives_up_after_the_schedule_with_a_logged_error(sender, receiver, caplog):
    receiver.final_answers = [503] * 10
    with caplog.at_level(logging.ERROR, logger="modal_app.webhook_delivery"):
        report = sender.deliver(receiver.url, FAILED)
    assert (report.outcome, report.attempts, report.status_code) == (DeliveryOutcome.GAVE_UP, 4, 503)
    assert "webhook delivery gave up job_id=job-1" in caplog.text


def test_an_unreachable_app_is_retried_then_given_up_with_the_reason(sender):
    report = sender.deliver(f"http://127.0.0.1:{free_port()}/hook", FAILED)
    assert (report.outcome, report.attempts, report.status_code) == (DeliveryOutcome.GAVE_UP, 4, None)
    assert "ConnectError" in (report.error or "")


def test_closing_the_sender_stops_waiting_between_retries(webhook_secret):
    sender = WebhookSender(webhook_secret, timeout_s=2, backoff_s=(600, 600))
    sender.close()
    report = sender.deliver(f"http://127.0.0.1:{free_port()}/hook", FAILED)
    assert (report.outcome, report.attempts) == (DeliveryOutcome.GAVE_UP, 1)
