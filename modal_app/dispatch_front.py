"""The worker's front door on Modal: a light CPU app that checks each dispatch and queues it.

`POST /generate` checks the Standard Webhooks signature and the body, claims the job id in a
store shared by every front container (put-if-absent, so a repeated dispatch runs once), hands
the job to the GPU class with `spawn` and answers 202 at once, whether or not a GPU is warm:
Modal's input queue holds the job while a container starts, and its backlog is what makes
Modal start more GPU containers (up to the deployment's ceiling). `POST /cancel` finds the
job's call and cancels it. `GET /health` says what a job runs with (model, steps, Lightning).
`POST /postprocess` (signed) waits for the print-model GPU class to cut out and upscale a design.

Modal is injected: `spawn(payload) -> call id`, `cancel(call id)`, `gpu_stats()` and a
`JobCalls` store are `FunctionCall`s, `Function.get_current_stats` and a `modal.Dict` in
`qwen_generator.py`, plain callables and a dict in tests. The answer to a dispatch says, when
the stats came in time, whether a GPU container is up ("warm") or one is starting, and how
many jobs are ahead: the studio shows it until the GPU takes the job.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from core.worker_contract.messages import (
    CancelAnswer,
    CancelRequest,
    DispatchAccepted,
    DispatchRequest,
    PostprocessRequest,
    PostprocessResult,
    WorkerHealth,
)
from core.worker_contract.webhooks import is_placeholder_secret
from modal_app.worker_app import read_signed, resolve_webhook, signed_body_schema

log = logging.getLogger(__name__)

Spawn = Callable[[dict[str, Any]], str]
"""Queue one job (the dispatch body, webhook resolved) on the GPU class; returns its call id."""
CancelCall = Callable[[str], None]
"""Cancel a queued or running call by id."""
Postprocess = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]
"""Run one post-processing request on the print-model GPU class and wait: (HTTP status, JSON body)."""
GpuStats = Callable[[], "QueueStats"]
"""The GPU class's queue now (Modal's `Function.get_current_stats`)."""
# how long a dispatch's answer waits for the queue's stats before it answers without them
GPU_STATS_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class QueueStats:
    backlog: int  # inputs waiting for a container, the one just spawned among them
    runners: int  # GPU containers up (or starting)

    def answer_fields(self) -> dict[str, Any]:
        """What the dispatch's answer says of them: a GPU starting or warm, the jobs ahead."""
        return {"gpu": "warm" if self.runners > 0 else "starting", "ahead": max(0, self.backlog - 1),
                "queue_depth": max(0, self.backlog)}

CLAIMED = ""  # the value of a claimed job id whose call is not spawned yet


class JobCalls(Protocol):
    """Which jobs were dispatched, and the call each runs as (a `modal.Dict` in production)."""

    def claim(self, job_id: str) -> bool:
        """Put-if-absent: True for the first dispatch of a job id, False for every repeat."""
        ...

    def record(self, job_id: str, call_id: str) -> None: ...

    def call_of(self, job_id: str) -> str | None:
        """The call id of a dispatched job; None when unknown or not spawned yet."""
        ...

    def release(self, job_id: str) -> None:
        """Forget a claim whose spawn failed, so the app's retry can dispatch it again."""
        ...


@dataclass
class InMemoryJobCalls:
    """JobCalls in one process (tests, a single front)."""

    calls: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, job_id: str) -> bool:
        with self._lock:
            if job_id in self.calls:
                return False
            self.calls[job_id] = CLAIMED
            return True

    def record(self, job_id: str, call_id: str) -> None:
        with self._lock:
            self.calls[job_id] = call_id

    def call_of(self, job_id: str) -> str | None:
        with self._lock:
            return self.calls.get(job_id) or None

    def release(self, job_id: str) -> None:
        with self._lock:
            self.calls.pop(job_id, None)


@dataclass(frozen=True)
class WorkerProfile:
    """What the GPU class runs, for `GET /health` (the front itself loads no model)."""

    model: str
    steps: int
    lightning: int | None
    engine: dict[str, Any] = field(default_factory=dict)


def create_dispatch_app(
    secret: str,
    *,
    spawn: Spawn,
    cancel: CancelCall,
    calls: JobCalls,
    profile: WorkerProfile,
    allowed_webhook_url: str | None = None,
    postprocess: Postprocess | None = None,
    gpu_stats: GpuStats | None = None,
    gpu_stats_timeout_s: float = GPU_STATS_TIMEOUT_S,
) -> FastAPI:
    """The front app; `allowed_webhook_url` is the only webhook jobs may name (see `create_worker_app`);
    `postprocess` serves `POST /postprocess` (503 without it); `gpu_stats`, when given, lets a
    dispatch's answer say whether a GPU is up and how many jobs are ahead (within
    `gpu_stats_timeout_s`, else it answers without)."""
    if is_placeholder_secret(secret):
        raise ValueError("the webhook secret is unset or a placeholder: set TENKAIGEN_WEBHOOK_SECRET to a whsec_ secret")
    app = FastAPI(title="TenkaiGen GPU worker (dispatch front)", version="0.1.0")

    @app.post(
        "/generate",
        response_model=DispatchAccepted,
        status_code=status.HTTP_202_ACCEPTED,
        openapi_extra=signed_body_schema(DispatchRequest),
    )
    async def generate(request: Request) -> DispatchAccepted:
        """Queue a signed job on the GPU class (202 at once); a repeated job id is accepted, not run again."""
        body = await read_signed(request, secret, DispatchRequest)
        payload = {**body.model_dump(mode="json"), "webhook_url": resolve_webhook(body, allowed_webhook_url)}
        # the seams block on the network (modal.Dict, spawn): off the event loop
        if not await run_in_threadpool(calls.claim, body.job_id):
            log.info("repeated dispatch job_id=%s", body.job_id)
            return DispatchAccepted(job_id=body.job_id, status="already accepted", queue_depth=0)
        try:
            call_id = await run_in_threadpool(spawn, payload)
        except Exception as exc:
            await run_in_threadpool(calls.release, body.job_id)
            log.error("spawn failed job_id=%s error=%s", body.job_id, type(exc).__name__)
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"could not queue the job: {type(exc).__name__}",
                headers={"Retry-After": "5"},
            ) from exc
        await run_in_threadpool(calls.record, body.job_id, call_id)
        queue = await read_queue()
        log.info("job queued job_id=%s call_id=%s backlog=%s runners=%s", body.job_id, call_id,
                 queue.backlog if queue else "?", queue.runners if queue else "?")
        fields = queue.answer_fields() if queue else {"queue_depth": 0}
        return DispatchAccepted(job_id=body.job_id, status="accepted", **fields)

    async def read_queue() -> QueueStats | None:
        """The GPU class's queue, or None: no stats seam, or it failed or was slow (a dispatch's
        answer does not wait on it)."""
        if gpu_stats is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, gpu_stats),
                                          gpu_stats_timeout_s)
        except Exception as exc:  # noqa: BLE001 (best effort: the answer goes out without them)
            log.info("gpu queue stats unread error=%s", type(exc).__name__)
            return None

    @app.post(
        "/cancel",
        response_model=CancelAnswer,
        status_code=status.HTTP_202_ACCEPTED,
        openapi_extra=signed_body_schema(CancelRequest),
    )
    async def cancel_job(request: Request) -> CancelAnswer:
        """Cancel a dispatched job's call, queued or running; `unknown` when this worker has no call for it."""
        body = await read_signed(request, secret, CancelRequest, what="cancel")
        call_id = await run_in_threadpool(calls.call_of, body.job_id)
        if call_id is None:
            return CancelAnswer(job_id=body.job_id, status="unknown")
        try:
            await run_in_threadpool(cancel, call_id)
        except Exception as exc:
            log.error("cancel failed job_id=%s call_id=%s error=%s", body.job_id, call_id, type(exc).__name__)
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"could not cancel: {type(exc).__name__}") from exc
        log.info("job canceled job_id=%s call_id=%s", body.job_id, call_id)
        return CancelAnswer(job_id=body.job_id, status="canceling")

    @app.post(
        "/postprocess",
        response_model=PostprocessResult,
        openapi_extra=signed_body_schema(PostprocessRequest),
    )
    async def postprocess_design(request: Request) -> JSONResponse:
        """Cut out and/or upscale a signed design on the print-model GPU class, and answer its result."""
        body = await read_signed(request, secret, PostprocessRequest, what="postprocess request")
        if postprocess is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "this worker serves no print models")
        try:
            code, answer = await run_in_threadpool(postprocess, body.model_dump(mode="json"))
        except Exception as exc:
            log.error("postprocess call failed job_id=%s error=%s", body.job_id, type(exc).__name__)
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"could not post-process: {type(exc).__name__}") from exc
        return JSONResponse(answer, status_code=code)

    @app.get("/health", response_model=WorkerHealth)
    def health() -> WorkerHealth:
        # GPU containers start and stop with the queue: none may be up, and that is healthy
        return WorkerHealth(
            status="ok",
            model=profile.model,
            model_loaded=False,
            load_error=None,
            busy=False,
            queue_depth=0,
            engine={**profile.engine, "runs_on": "Modal GPU containers, started by the queue"},
            steps=profile.steps,
            lightning=profile.lightning,
        )

    return app
