"""The GPU worker's HTTP app: `POST /generate` (202, result by signed webhook) and `GET /health`.

The same app runs on Modal (`qwen_generator.py`), self-hosted (`python -m modal_app.serve`)
and in tests under uvicorn. `create_worker_app` is the only constructor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import AnyHttpUrl, BaseModel, Field, ValidationError

from core.errors import WebhookRejected
from core.worker_contract.webhooks import is_placeholder_secret, verify_signature
from modal_app.inference import MAX_SEED, MAX_STEPS, InferenceRequest
from modal_app.job_runner import GenerationWorker, ImageEngine, QueueFull, WorkerJob
from modal_app.webhook_delivery import DEFAULT_BACKOFF_S, WebhookSender


class GenerateJobBody(BaseModel):
    """The dispatch body (`GenerationRequest.worker_body()` on the app's side).

    Only the shape is checked here (422); what the model can do (sizes by 16 within its
    range) is checked by the inference code and comes back as a failed webhook.
    """

    job_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    prompt: str = Field(min_length=1, max_length=4000)
    negative_prompt: str = Field("", max_length=4000)
    width: int = Field(ge=1, le=8192)
    height: int = Field(ge=1, le=8192)
    seed: int = Field(ge=0, le=MAX_SEED)
    steps: int = Field(ge=1, le=MAX_STEPS)
    webhook_url: AnyHttpUrl | None = None
    true_cfg_scale: float | None = Field(None, ge=1.0, le=20.0)

    def inference_request(self) -> InferenceRequest:
        return InferenceRequest(
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            width=self.width,
            height=self.height,
            seed=self.seed,
            steps=self.steps,
            true_cfg_scale=self.true_cfg_scale,
        )


class GenerateAccepted(BaseModel):
    job_id: str
    status: str
    queue_depth: int


class WorkerHealth(BaseModel):
    status: str
    model: str
    model_loaded: bool
    load_error: str | None
    busy: bool
    queue_depth: int
    engine: dict[str, Any]


def _normalized(url: str) -> str:
    return url.rstrip("/")


def create_worker_app(
    engine: ImageEngine,
    secret: str,
    *,
    allowed_webhook_url: str | None = None,
    backoff_s: Sequence[float] = DEFAULT_BACKOFF_S,
    webhook_timeout_s: float = 15.0,
    max_queue: int = 16,
) -> FastAPI:
    """The worker app around a (possibly not yet loaded) engine.

    `allowed_webhook_url`, when set, is the only webhook the worker posts to (the app's own):
    a public worker must not sign results for any URL a caller names. Jobs without a
    `webhook_url` go there too.
    """
    if is_placeholder_secret(secret):
        raise ValueError("the webhook secret is unset or a placeholder: set TENKAIGEN_WEBHOOK_SECRET to a whsec_ secret")
    sender = WebhookSender(secret, timeout_s=webhook_timeout_s, backoff_s=backoff_s)
    worker = GenerationWorker(engine, sender, max_queue=max_queue)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker.start()  # begins loading the model at once; /health reports when it is ready
        yield
        worker.stop()
        sender.close()

    app = FastAPI(title="TenkaiGen GPU worker", version="0.1.0", lifespan=lifespan)
    app.state.worker = worker

    def webhook_for(body: GenerateJobBody) -> str:
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

    @app.post(
        "/generate",
        response_model=GenerateAccepted,
        status_code=status.HTTP_202_ACCEPTED,
        openapi_extra={"requestBody": {"content": {"application/json": {"schema": GenerateJobBody.model_json_schema()}}}},
    )
    async def generate(request: Request) -> GenerateAccepted:
        """Accept a job signed with the shared secret (Standard Webhooks headers); 401 otherwise."""
        raw = await request.body()
        try:
            verify_signature(secret, raw, dict(request.headers))
        except WebhookRejected as exc:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"dispatch {exc}") from exc
        try:
            body = GenerateJobBody.model_validate_json(raw)
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False)) from exc
        job = WorkerJob(job_id=body.job_id, webhook_url=webhook_for(body), request=body.inference_request())
        try:
            accepted = worker.submit(job)
        except QueueFull as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc), headers={"Retry-After": "30"}) from exc
        return GenerateAccepted(
            job_id=job.job_id, status="accepted" if accepted else "already accepted", queue_depth=worker.queue_depth
        )

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
        )

    return app
