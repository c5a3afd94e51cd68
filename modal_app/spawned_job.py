"""One queued job on a Modal GPU container: what `QwenGenerator.run` does with a spawned dispatch.

The dispatch front (`dispatch_front.py`) checked the signature and spawned the call; Modal's
queue hands it to a container whose model is loaded. The job first posts `processing` with
progress 0/N, so the app's deadline counts from the moment a GPU took it (a cold start may
have kept it queued for minutes), then runs as every worker job does (`runner.run_job`).
"""

from __future__ import annotations

import logging
from typing import Any

from core.worker_contract.engine import GenerationCanceled, ImageEngine, InferenceRequest
from core.worker_contract.messages import DispatchRequest
from core.worker_contract.runner import JobOutlet, run_job
from modal_app.engine_config import default_steps
from modal_app.job_runner import WebhookOutlet, WorkerJob
from modal_app.webhook_delivery import DeliveryReport, WebhookSender
from modal_app.worker_app import inference_request, resolve_webhook

log = logging.getLogger(__name__)


def planned_steps(engine: ImageEngine, request: InferenceRequest) -> int:
    plan = getattr(engine, "planned_steps", None)
    if plan is not None:
        return int(plan(request))
    return request.steps or default_steps(engine.describe().get("lightning"))


def run_started_job(engine: ImageEngine, request: InferenceRequest, outlet: JobOutlet, *, job_id: str) -> bool:
    """Announce the start (progress 0/N), then generate and report; True when the job completed."""
    try:
        outlet.progress(0, planned_steps(engine, request))
    except GenerationCanceled:
        outlet.canceled()
        return False
    return run_job(engine, request, outlet, job_id=job_id)


def run_spawned_job(
    engine: ImageEngine, sender: WebhookSender, payload: dict[str, Any], *, allowed_webhook_url: str | None
) -> bool:
    """The GPU method's body: the spawned dispatch (as the front checked it) run to its webhook."""
    body = DispatchRequest.model_validate(payload)
    job = WorkerJob(
        job_id=body.job_id,
        webhook_url=resolve_webhook(body, allowed_webhook_url),
        request=inference_request(body),
    )

    def delivered(report: DeliveryReport) -> None:
        log.info("result delivered job_id=%s outcome=%s attempts=%d status=%s",
                 job.job_id, report.outcome, report.attempts, report.status_code)

    return run_started_job(engine, job.request, WebhookOutlet(sender, job, delivered), job_id=job.job_id)
