"""Request and response bodies of the HTTP API (the contract other parts build on)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, model_validator

from core.jobs import Job
from core.jobs.callbacks import status_body
from core.jobs.limits import (
    MAX_BATCH,
    MAX_CALLBACK_URL_CHARS,
    MAX_NEGATIVE_PROMPT_CHARS,
    MAX_SEED,
    MAX_STEPS,
    MAX_VECTOR_COLORS,
    MIN_STEPS,
    MIN_VECTOR_COLORS,
)


class ErrorBody(BaseModel):
    """Every error answer of the API, whatever its status (api/errors.py)."""

    detail: str = Field(description="What went wrong, in one readable sentence")


class ParsePromptBody(BaseModel):
    prompt: str = Field(description="The designer's idea in free text")
    style: str = Field("anime", description="Style id (GET /api/styles)")
    product: str = Field("t-shirt", description="Product id (GET /api/products)")


class ParsePromptResponse(BaseModel):
    parsed: dict[str, Any]


# what a new brief is made of; a variation or retry takes them all from its job's stored brief
BRIEF_FIELDS = ("prompt", "style", "product", "seed", "negative_prompt", "steps", "final_prompt",
                "final_negative_prompt")


class GenerateBody(BaseModel):
    prompt: str | None = Field(None, description="The idea; required unless variation_of or retry_of is given")
    style: str | None = Field(None, description="Style id (GET /api/styles); required with prompt")
    product: str | None = Field(None, description="Product id (GET /api/products); required with prompt")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="With images > 1, consecutive seeds from it")
    negative_prompt: str | None = Field(None, max_length=MAX_NEGATIVE_PROMPT_CHARS)
    steps: int | None = Field(None, ge=MIN_STEPS, le=MAX_STEPS, description="Denoising steps (default: the app's)")
    images: int = Field(1, ge=1, le=MAX_BATCH, description="How many images (jobs), each its own seed")
    final_prompt: str | None = Field(
        None, description="The edited brief: exactly what the image model draws (normalised, checked by the policy)"
    )
    final_negative_prompt: str | None = Field(None, description="The edited brief's negative prompt")
    variation_of: str | None = Field(None, description="One of your job ids: a new job from its brief, a new seed")
    retry_of: str | None = Field(None, description="One of your job ids: a new job from its brief and seed")
    callback_url: str | None = Field(
        None,
        max_length=MAX_CALLBACK_URL_CHARS,
        description="http(s) URL that gets each job's terminal status as a signed Standard Webhooks POST",
    )

    @model_validator(mode="after")
    def _one_source(self) -> GenerateBody:
        source = [name for name in ("variation_of", "retry_of") if getattr(self, name)]
        if len(source) > 1:
            raise ValueError("give variation_of or retry_of, not both")
        if source:
            given = [name for name in BRIEF_FIELDS if getattr(self, name) is not None]
            if given:
                raise ValueError(
                    f"{source[0]} makes the job from that job's stored brief: leave out {', '.join(given)}"
                )
            if self.retry_of and self.images != 1:
                raise ValueError("retry_of repeats one job with its seed: images must be 1 (ask for variations)")
        return self

    def missing_fields(self) -> list[dict[str, Any]]:
        """Validation errors (FastAPI's shape) for the brief fields a new job needs and lacks:
        pydantic cannot tell "required unless variation_of / retry_of" by itself."""
        if self.variation_of or self.retry_of:
            return []
        return [
            {"type": "missing", "loc": ("body", name), "msg": "Field required (or give variation_of / retry_of)",
             "input": None}
            for name in ("prompt", "style", "product")
            if getattr(self, name) is None
        ]

    def brief_overrides(self) -> dict[str, str]:
        overrides = {"prompt": self.final_prompt, "negative_prompt": self.final_negative_prompt}
        return {field: value for field, value in overrides.items() if value is not None}


class GenerateAccepted(BaseModel):
    job_id: str = Field(description="The first (or only) job")
    status: str
    job_ids: list[str] = Field(description="Every job the request made, in seed order")


class Progress(BaseModel):
    step: int
    total: int


class GpuQueue(BaseModel):
    wait: Literal["starting", "queued"] = Field(
        description="starting: no GPU was up when the job was dispatched, one is starting (a cold start, "
                    "a minute or more); queued: the job waits its turn on a running GPU")
    ahead: int | None = Field(None, description="jobs the worker starts before this one, as it said at dispatch")


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
    final_prompt: str | None = Field(None, description="What the image model receives (the brief's prompt)")
    final_negative_prompt: str | None = Field(None, description="The brief's negative prompt")
    steps: int | None = Field(None, description="Denoising steps asked for; null: the app's default")
    progress: Progress | None = None
    gpu_queue: GpuQueue | None = Field(
        None, description="where a processing job waits for a GPU, until its first progress report")
    favorite: bool = False

    @classmethod
    def from_job(cls, job: Job, image_url: str | None) -> JobStatusResponse:
        """The same fields a job's callback carries (core.jobs.callbacks.status_body)."""
        return cls.model_validate({**status_body(job, ""), "image_url": image_url})


class JobList(BaseModel):
    jobs: list[JobStatusResponse]


class FavoriteBody(BaseModel):
    # strict: the document says boolean, so 0, 1 or "yes" are refused rather than read as one
    favorite: StrictBool = Field(description="true marks the job as a favourite, false clears the mark")


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


class VectorBody(BaseModel):
    colors: int | None = Field(None, ge=MIN_VECTOR_COLORS, le=MAX_VECTOR_COLORS,
                               description="Colours to reduce the design to; the job's style's count when left out")


class VectorResponse(BaseModel):
    svg_url: str
    colors: int = Field(description="The colours the design was reduced to (each path is filled with one)")
    paths: int = Field(description="<path> elements in the SVG")


class PreflightCheckView(BaseModel):
    check: str = Field(description="format, colour, dpi, resolution, dtg-alpha, tiny, edge, contrast, file")
    status: Literal["pass", "fixed", "fail"] = Field(
        description="pass; fixed: changed automatically, `detail` says how; fail: `detail` says what to do")
    detail: str


class PrintFileResponse(BaseModel):
    job_id: str
    print_file_url: str
    width: int = Field(description="Pixels: the product's print area times its DPI")
    height: int
    dpi: int
    background_removed: bool
    preflight: list[PreflightCheckView] = Field(
        description="The print shop's checks, in order; a file with a failed check is still made: you decide")
    preflight_passed: bool = Field(description="No check failed")
    made_by: str = Field(description="How the file was made, e.g. 'local: flood-fill cutout, Lanczos upscale'")
    download_name: str = Field(description="A file name for it: the idea's first words, product, size and DPI")


# --- Printful: variants, official mockups, publishing -------------------------------------------
class VariantView(BaseModel):
    variant_id: int
    color: str
    color_code: str
    size: str
    price: str = Field(description="Printful's price for the blank, a decimal string")
    in_stock: bool


class StoreProductView(BaseModel):
    product_id: int = Field(description="The sync product's id in the Printful store")
    url: str = Field(description="The product in Printful's dashboard")
    name: str
    variant_ids: list[int]
    retail_price: str


class VariantsResponse(BaseModel):
    job_id: str
    printful_product_id: int
    variants: list[VariantView]
    default_variant_ids: list[int]
    suggested_retail_price: str
    published: StoreProductView | None = None


class MockupImageView(BaseModel):
    variant_ids: list[int]
    url: str


class MockupsBody(BaseModel):
    variant_ids: list[int] | None = Field(None, max_length=100,
                                          description="Catalog variant ids; default: the product's own variant")


class MockupsResponse(BaseModel):
    job_id: str
    status: Literal["pending", "completed", "failed"]
    mockups: list[MockupImageView]
    error: str | None = None


class PublishBody(BaseModel):
    variant_ids: list[int] = Field(min_length=1, max_length=100)
    retail_price: str = Field(max_length=12, description="An amount like 24.00, at least Printful's price")


class PublishResponse(BaseModel):
    job_id: str
    product_id: int
    url: str
    name: str
    variant_ids: list[int]
    retail_price: str
