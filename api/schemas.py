"""Request and response bodies of the HTTP API (the contract other parts build on)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from core.jobs import Job
from core.jobs.limits import MAX_NEGATIVE_PROMPT_CHARS, MAX_SEED


class ErrorBody(BaseModel):
    """Every error answer of the API, whatever its status (api/errors.py)."""

    detail: str = Field(description="What went wrong, in one readable sentence")


class ParsePromptBody(BaseModel):
    prompt: str = Field(description="The designer's idea in free text")
    style: str = Field("anime", description="Style id (GET /api/styles)")
    product: str = Field("t-shirt", description="Product id (GET /api/products)")


class ParsePromptResponse(BaseModel):
    parsed: dict[str, Any]


class GenerateBody(BaseModel):
    prompt: str
    style: str
    product: str
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    negative_prompt: str | None = Field(None, max_length=MAX_NEGATIVE_PROMPT_CHARS)


class GenerateAccepted(BaseModel):
    job_id: str
    status: str


class Progress(BaseModel):
    step: int
    total: int


class JobStatusResponse(BaseModel):
    job_id: str
    status: str
    prompt: str
    image_url: str | None
    error: str | None
    processing_time_ms: int | None
    created_at: datetime
    completed_at: datetime | None
    style: str
    product: str
    seed: int | None
    progress: Progress | None = None

    @classmethod
    def from_job(cls, job: Job, image_url: str | None) -> JobStatusResponse:
        progress = None
        if job.progress_step is not None and job.progress_total:
            progress = Progress(step=job.progress_step, total=job.progress_total)
        return cls(
            job_id=job.id,
            status=job.status.value,
            prompt=job.prompt,
            image_url=image_url,
            error=job.error,
            processing_time_ms=job.processing_time_ms,
            created_at=job.created_at,
            completed_at=job.completed_at,
            style=job.style,
            product=job.product,
            seed=job.seed,
            progress=progress,
        )


class JobList(BaseModel):
    jobs: list[JobStatusResponse]


class QuotaView(BaseModel):
    per_minute: int = Field(description="limit per rolling minute (0 = unlimited)")
    per_day: int = Field(description="limit per rolling 24 hours (0 = unlimited)")
    in_flight: int = Field(description="pending or processing at once (0 = unlimited)")
    used_last_minute: int
    used_last_day: int
    in_flight_now: int


class MeResponse(BaseModel):
    user_id: str
    is_admin: bool
    auth: str = Field(description="none | local | supabase")
    quota: QuotaView


class WebhookAck(BaseModel):
    job_id: str
    result: str


class PrintFileResponse(BaseModel):
    job_id: str
    print_file_url: str
    width: int = Field(description="Pixels: the product's print area times its DPI")
    height: int
    dpi: int
    background_removed: bool
