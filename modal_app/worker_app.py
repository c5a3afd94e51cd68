"""The GPU worker's HTTP app: `POST /generate` (202, result by signed webhook), `POST /cancel`
(signed: a waiting job is dropped, the running one stopped at its next step), `POST /postprocess`
(a design made print-ready, answered synchronously) and `GET /health`.

The self-hosted worker (`python -m modal_app.serve`, and the tests under uvicorn): its own
bounded queue and one job at a time. On Modal, `dispatch_front.py` answers these requests and
Modal's queue feeds the GPU containers; both check a dispatch with `read_signed` and
`resolve_webhook` from here. `create_worker_app` is the only constructor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from core.worker_contract.engine import ImageEngine, InferenceRequest
from core.worker_contract.messages import (
    CancelAnswer,
    CancelRequest,
    DispatchAccepted,
    DispatchRequest,
    PostprocessRequest,
    PostprocessResult,
    WorkerHealth,
)
from core.worker_contract.runner import QueueFull
from core.worker_contract.webhooks import SignatureRejected, is_placeholder_secret, verify_signature
from modal_app.engine_config import default_steps
from modal_app.job_runner import GenerationWorker, WorkerJob
from modal_app.postprocess_job import PrintModels, answer_postprocess
from modal_app.uploads import DEFAULT_UPLOAD_BACKOFF_S, ResultUploader
from modal_app.webhook_delivery import DEFAULT_BACKOFF_S, WebhookSender


def inference_request(body: DispatchRequest) -> InferenceRequest:
    """The engine's request for a dispatch.

    Only the body's shape is checked on the way in (422); what the model can do (sizes by 16
    within its range) is the engine's check, and comes back as a failed webhook.
    """
    return InferenceRequest(
        prompt=body.prompt,
        negative_prompt=body.negative_prompt,
        width=body.width,
        height=body.height,
        seed=body.seed,
        steps=body.steps,
        true_cfg_scale=body.true_cfg_scale,
    )


Body = TypeVar("Body", bound=BaseModel)


def _normalized(url: str) -> str:
    return url.rstrip("/")


def resolve_webhook(body: DispatchRequest, allowed_webhook_url: str | None) -> str:
    """Where a job's news goes: its own `webhook_url` or the configured one, never another (422)."""
    url = _normalized(str(body.webhook_url)) if body.webhook_url else None
    allowed = _normalized(allowed_webhook_url) if allowed_webhook_url else None
    if url is None and allowed is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "webhook_url is required")
    if allowed is not None and url not in (None, allowed):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "webhook_url is not the webhook this worker is configured for (TENKAIGEN_WEBHOOK_URL)",
        )
    return url or allowed  # type: ignore[return-value]


async def read_signed(request: Request, secret: str, model: type[Body], what: str = "dispatch") -> Body:
    """The request's body as `model`, after checking its Standard Webhooks signature (401) and shape (422)."""
    raw = await request.body()
    try:
        verify_signature(secret, raw, dict(request.headers))
    except SignatureRejected as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"{what} {exc}") from exc
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc


def signed_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a route that reads its signed body itself (the signature covers the raw bytes)."""
    return {"requestBody": {"content": {"application/json": {"schema": model.model_json_schema()}}}}


def create_worker_app(
    engine: ImageEngine,
    secret: str,
    *,
    allowed_webhook_url: str | None = None,
    backoff_s: Sequence[float] = DEFAULT_BACKOFF_S,
    webhook_timeout_s: float = 15.0,
    max_queue: int = 16,
    upload_backoff_s: Sequence[float] = DEFAULT_UPLOAD_BACKOFF_S,
    print_models: PrintModels | None = None,
) -> FastAPI:
    """The worker app around a (possibly not yet loaded) engine.

    `allowed_webhook_url`, when set, is the only webhook the worker posts to (the app's own):
    a public worker must not sign results for any URL a caller names. Jobs without a
    `webhook_url` go there too. `print_models` serve `POST /postprocess` (503 without them).
    """
    if is_placeholder_secret(secret):
        raise ValueError("the webhook secret is unset or a placeholder: set TENKAIGEN_WEBHOOK_SECRET to a whsec_ secret")
    sender = WebhookSender(secret, timeout_s=webhook_timeout_s, backoff_s=backoff_s)
    uploader = ResultUploader(backoff_s=upload_backoff_s)
    worker = GenerationWorker(engine, sender, max_queue=max_queue, uploader=uploader)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker.start()  # begins loading the model at once; /health reports when it is ready
        yield
        worker.stop()
        uploader.close()
        sender.close()

    app = FastAPI(title="TenkaiGen GPU worker", version="0.1.0", lifespan=lifespan)
    app.state.worker = worker

    @app.post(
        "/generate",
        response_model=DispatchAccepted,
        status_code=status.HTTP_202_ACCEPTED,
        openapi_extra=signed_body_schema(DispatchRequest),
    )
    async def generate(request: Request) -> DispatchAccepted:
        """Accept a job signed with the shared secret (Standard Webhooks headers); 401 otherwise."""
        body = await read_signed(request, secret, DispatchRequest)
        job = WorkerJob(
            job_id=body.job_id, webhook_url=resolve_webhook(body, allowed_webhook_url), request=inference_request(body),
            upload=body.upload,
        )
        try:
            accepted = worker.submit(job)
        except QueueFull as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc), headers={"Retry-After": "30"}) from exc
        waiting = worker.queue_depth  # this job among them, unless it was already running
        return DispatchAccepted(
            job_id=job.job_id, status="accepted" if accepted else "already accepted", queue_depth=waiting,
            gpu="warm" if engine.is_loaded else "starting",
            ahead=max(0, waiting - 1) + (1 if worker.busy else 0) if accepted else None,
        )

    @app.post(
        "/cancel",
        response_model=CancelAnswer,
        status_code=status.HTTP_202_ACCEPTED,
        openapi_extra=signed_body_schema(CancelRequest),
    )
    async def cancel_job(request: Request) -> CancelAnswer:
        """Stop a signed job: dropped if it waits, stopped at its next step if it runs; `unknown`
        when this worker holds no such job (finished, or never sent here)."""
        body = await read_signed(request, secret, CancelRequest, what="cancel")
        found = worker.cancel(body.job_id)
        return CancelAnswer(job_id=body.job_id, status="canceling" if found else "unknown")

    @app.post(
        "/postprocess",
        response_model=PostprocessResult,
        openapi_extra=signed_body_schema(PostprocessRequest),
        responses={503: {"description": "this worker has no print models, or their weights are missing"}},
    )
    async def postprocess(request: Request) -> JSONResponse:
        """Cut out and/or upscale a signed design to an exact size; the PNG inline, or PUT to `upload`."""
        body = await read_signed(request, secret, PostprocessRequest, what="postprocess request")
        if print_models is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "this worker serves no print models")
        code, answer = await run_in_threadpool(
            answer_postprocess, print_models, body.model_dump(mode="json"), uploader=uploader
        )
        return JSONResponse(answer, status_code=code)

    lightning = engine.describe().get("lightning")

    @app.get("/health", response_model=WorkerHealth)
    def health() -> WorkerHealth:
        return WorkerHealth(
            status="ok" if engine.is_loaded else ("error" if worker.load_error else "loading"),
            model=engine.model_name,
            model_loaded=engine.is_loaded,
            load_error=worker.load_error,
            busy=worker.busy,
            queue_depth=worker.queue_depth,
            engine=engine.describe(),
            steps=default_steps(lightning),
            lightning=lightning,
        )

    return app
