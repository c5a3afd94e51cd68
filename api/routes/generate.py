"""/api/parse-prompt and /api/generate/*: thin handlers over GenerationService."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, UserIdDep
from api.errors import error_responses
from api.schemas import (
    FavoriteBody,
    GenerateAccepted,
    GenerateBody,
    JobList,
    JobStatusResponse,
    ParsePromptBody,
    ParsePromptResponse,
    PreflightCheckView,
    PrintFileResponse,
    VectorBody,
    VectorResponse,
    WebhookAck,
)
from core.generators import GenerationOutcome
from core.jobs import HistoryFilter, JobStatus
from core.jobs.limits import MAX_HISTORY_LIMIT, MAX_HISTORY_OFFSET
from core.jobs.service import GenerateCommand
from core.worker_contract.webhooks import verify_webhook

router = APIRouter(prefix="/api", tags=["generation"])

# a result may carry one PNG, base64-encoded (local storage); with direct uploads to the
# bucket it is far smaller (MAX_DIRECT_WEBHOOK_BYTES)
MAX_WEBHOOK_BYTES = 32 * 1024 * 1024


def _absolute(request: Request, url: str | None) -> str | None:
    """Local storage hands out app-relative URLs; API callers get absolute ones."""
    if url and url.startswith("/"):
        return str(request.base_url).rstrip("/") + url
    return url


@router.post("/parse-prompt", response_model=ParsePromptResponse, responses=error_responses(400, 401, 413, 422, 429))
def parse_prompt(body: ParsePromptBody, services: ServicesDep, _user_id: UserIdDep) -> ParsePromptResponse:
    brief = services.generation.parse(body.prompt, body.style, body.product)
    return ParsePromptResponse(parsed=brief.model_dump())


@router.post(
    "/generate",
    response_model=GenerateAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400, 401, 404, 413, 422, 429, described={
        404: "variation_of / retry_of names no job of yours",
        429: "over a quota: `detail` names the limit that binds, Retry-After when it frees"}),
)
def generate(
    body: GenerateBody, services: ServicesDep, user_id: UserIdDep, background: BackgroundTasks
) -> GenerateAccepted:
    """One job, a batch (`images`), or a variation / retry of one of your jobs; dispatched after the answer."""
    missing = body.missing_fields()
    if missing:
        raise RequestValidationError(missing)
    generation = services.generation
    source = body.variation_of or body.retry_of
    if source:
        jobs = generation.create_rerun(
            user_id, source, keep_seed=body.retry_of is not None, count=body.images, callback_url=body.callback_url
        )
    else:
        assert body.prompt is not None and body.style is not None and body.product is not None  # the validator's
        command = GenerateCommand(
            prompt=body.prompt,
            style=body.style,
            product=body.product,
            seed=body.seed,
            negative_prompt=body.negative_prompt,
            steps=body.steps,
            brief_overrides=body.brief_overrides() or None,
            callback_url=body.callback_url,
        )
        jobs = generation.create_batch(user_id, command, body.images)
    for job in jobs:
        background.add_task(generation.dispatch_later, job.id)
    return GenerateAccepted(job_id=jobs[0].id, status=jobs[0].status.value, job_ids=[job.id for job in jobs])


@router.get("/generate/status/{job_id}", response_model=JobStatusResponse, responses=error_responses(401, 404, 429))
def job_status(job_id: str, request: Request, services: ServicesDep, user_id: UserIdDep) -> JobStatusResponse:
    job = services.generation.owned_job(user_id, job_id)
    return JobStatusResponse.from_job(job, _absolute(request, job.image_url))


HISTORY_ERRORS = error_responses(401, 422, 429, described={422: "An unknown status, style or product, or a bad page"})


@router.get("/generate", response_model=JobList, responses=HISTORY_ERRORS)
@router.get("/generate/jobs", response_model=JobList, responses=HISTORY_ERRORS)
def list_jobs(
    request: Request,
    services: ServicesDep,
    user_id: UserIdDep,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_HISTORY_OFFSET)] = 0,
    statuses: Annotated[
        list[JobStatus] | None, Query(alias="status", description="keep jobs in these statuses (repeatable)")
    ] = None,
    style: Annotated[str | None, Query(max_length=64, description="style id")] = None,
    product: Annotated[str | None, Query(max_length=64, description="product id")] = None,
    favorite: Annotated[bool | None, Query(description="true: favourites only; false: the others")] = None,
) -> JobList:
    """The caller's own jobs, newest first; each filter given narrows the list."""
    filters = HistoryFilter(statuses=frozenset(statuses) if statuses else None, style=style, product=product,
                            favorite=favorite)
    jobs = services.generation.history(user_id, filters, limit=limit, offset=offset)
    return JobList(jobs=[JobStatusResponse.from_job(j, _absolute(request, j.image_url)) for j in jobs])


@router.post(
    "/generate/{job_id}/cancel",
    response_model=JobStatusResponse,
    responses=error_responses(401, 404, 409, 413, 429, described={409: "The job has already finished"}),
)
def cancel_job(job_id: str, request: Request, services: ServicesDep, user_id: UserIdDep) -> JobStatusResponse:
    job = services.generation.cancel(user_id, job_id)
    return JobStatusResponse.from_job(job, _absolute(request, job.image_url))


@router.put("/generate/{job_id}/favorite", response_model=JobStatusResponse,
            responses=error_responses(400, 401, 404, 413, 422, 429))
def set_favorite(
    job_id: str, body: FavoriteBody, request: Request, services: ServicesDep, user_id: UserIdDep
) -> JobStatusResponse:
    """Mark or unmark the caller's job as a favourite, in any status."""
    job = services.generation.set_favorite(user_id, job_id, body.favorite)
    return JobStatusResponse.from_job(job, _absolute(request, job.image_url))


@router.delete(
    "/generate/{job_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(
        401, 404, 409, 413, 429, 503,
        described={409: "The job is pending or processing: cancel it first",
                   503: "Storage could not delete the job's images; the job stays"},
    ),
)
def delete_job(job_id: str, services: ServicesDep, user_id: UserIdDep) -> None:
    """Delete the caller's finished job: its image and print file in storage, then the job.
    A pending or processing job is refused (409): cancel it first."""
    services.generation.delete_job(user_id, job_id)


@router.post(
    "/generate/{job_id}/print-file",
    response_model=PrintFileResponse,
    responses=error_responses(
        401, 404, 409, 413, 422, 429, 503,
        described={409: "The job has not completed"},
    ),
)
def export_print_file(job_id: str, request: Request, services: ServicesDep, user_id: UserIdDep) -> PrintFileResponse:
    """Render the completed job's print-ready PNG for its product (print size, DPI, transparency)
    with its preflight checklist; a stored file is answered again with the checklist it was made with."""
    stored = services.generation.files.print_file(user_id, job_id)
    return PrintFileResponse(
        job_id=job_id,
        print_file_url=_absolute(request, stored.url) or stored.url,
        width=stored.width,
        height=stored.height,
        dpi=stored.dpi,
        background_removed=stored.background_removed,
        preflight=[PreflightCheckView(**check.as_dict()) for check in stored.preflight],
        preflight_passed=not stored.failed,
        made_by=stored.made_by,
        download_name=stored.download_name,
    )


@router.post(
    "/generate/{job_id}/vector",
    response_model=VectorResponse,
    responses=error_responses(
        401, 404, 409, 413, 422, 429, 503,
        described={409: "The job has not completed",
                   429: "The process is rendering its limit of print and vector files: Retry-After"},
    ),
)
def export_vector(job_id: str, request: Request, services: ServicesDep, user_id: UserIdDep,
                  body: VectorBody | None = None) -> VectorResponse:
    """Trace the completed job's design to an SVG in a few flat colours (stickers, screen print, vinyl)."""
    stored = services.generation.files.vector(user_id, job_id, body.colors if body else None)
    return VectorResponse(svg_url=_absolute(request, stored.url) or stored.url, colors=stored.colors,
                          paths=stored.paths)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"webhook body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"webhook body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/generate/webhook",
    response_model=WebhookAck,
    responses=error_responses(
        401, 404, 409, 413, 422, 503,
        described={
            401: "Bad or stale signature",
            404: "Unknown job",
            409: "The job's status does not allow this result",
            422: "The body is not a valid result, or its image is not the PNG the job asked for",
            503: "The image could not be stored; the worker may retry",
        },
    ),
)
async def generation_webhook(request: Request, services: ServicesDep) -> WebhookAck:
    """Result callback from a GPU worker, signed with the Standard Webhooks scheme."""
    body = await _read_limited(request, MAX_WEBHOOK_BYTES)
    payload = verify_webhook(services.webhook_secret, body, dict(request.headers))
    outcome = GenerationOutcome(
        job_id=payload.job_id,
        status=payload.status,
        png=payload.image_bytes(),
        error=payload.error,
        seed=payload.seed,
        timings=payload.timings or {},
        progress_step=payload.progress.step if payload.progress else None,
        progress_total=payload.progress.total if payload.progress else None,
        image=payload.image,
        gpu_seconds=payload.gpu_seconds,
        cold_start_seconds=payload.cold_start_seconds,
    )
    result = await run_in_threadpool(services.generation.apply_outcome, outcome)
    return WebhookAck(job_id=payload.job_id, result=result)
