"""Request and response bodies of the HTTP API (the contract other parts build on)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from core.jobs import Job


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
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    negative_prompt: str | None = Field(None, max_length=2000)


class GenerateAccepted(BaseModel):
    job_id: str
    status: str


class Progress(BaseModel):
    step: int
    total: int


class JobStatusResponse(BaseModel):
    job_id: str
    status: str
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
