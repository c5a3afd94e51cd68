"""What crosses the wire between the app and the GPU worker, and the limits both sides hold.

The app builds a `DispatchRequest` and posts it to the worker's `POST /generate`; the worker
validates the same model, answers `DispatchAccepted` (202), and later posts `WebhookPayload`s
to the job's webhook. A limit is defined here once: the app never stores a seed, a step count
or a size the worker would refuse.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, Field, model_validator

from core.errors import InvalidRequest

# The narrower of the two sides' seed ranges (a signed 32-bit int), so every seed the app
# stores is one the worker accepts.
MAX_SEED = 2**31 - 1
MIN_STEPS = 1
MAX_STEPS = 100
MAX_PROMPT_CHARS = 4000  # the worker's bound for prompt and negative prompt alike
MIN_TRUE_CFG_SCALE = 1.0
MAX_TRUE_CFG_SCALE = 20.0
# Qwen-Image's VAE downsamples by 8 and the transformer packs 2x2 patches: sides are multiples of 16.
SIZE_MULTIPLE = 16
MIN_SIDE = 256  # the smallest side the worker makes unless its operator lowers it (--min-side)
MAX_SIDE = 2048  # the largest side the worker makes unless its operator raises it (--max-side)
# The dispatch body's sanity bound on a side. Whether the model can make a size (multiple of
# 16, within the worker's configured range) is the worker's check, reported by a failed webhook.
SIDE_CEILING = 8192
JOB_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
MAX_JOB_ID_CHARS = 128
# A result uploaded straight to the bucket leaves the webhook small: the worker's signed
# `completed` then carries the image's size and digest, never its bytes, and fits in this.
# (Hosts in front of the app refuse large bodies: Vercel at 4.5 MB, nginx at 1 MB by default.)
MAX_DIRECT_WEBHOOK_BYTES = 64 * 1024
MAX_UPLOAD_URL_CHARS = 8192
SHA256_PATTERN = r"^[0-9a-f]{64}$"


class UploadTarget(BaseModel):
    """Where the worker PUTs the finished PNG itself: a presigned URL for the job's object.

    `headers` are the ones the signature covers (Content-Type); the worker sends them as given.
    """

    # kept as sent, not parsed into a URL type: re-encoding its query would break the signature
    url: str = Field(min_length=8, max_length=MAX_UPLOAD_URL_CHARS, pattern=r"^https?://[^\s]+$")
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str] = Field(default_factory=dict, max_length=16)


class DispatchRequest(BaseModel):
    """The body of `POST /generate`: one image to make, and where its result goes."""

    job_id: str = Field(min_length=1, max_length=MAX_JOB_ID_CHARS, pattern=JOB_ID_PATTERN)
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    negative_prompt: str = Field("", max_length=MAX_PROMPT_CHARS)
    width: int = Field(ge=1, le=SIDE_CEILING)
    height: int = Field(ge=1, le=SIDE_CEILING)
    seed: int = Field(ge=0, le=MAX_SEED)
    steps: int = Field(ge=MIN_STEPS, le=MAX_STEPS)
    # None: the worker posts to the one webhook it is configured with (TENKAIGEN_WEBHOOK_URL)
    webhook_url: AnyHttpUrl | None = None
    # None: the worker's default (true CFG on, or off under Lightning); the app leaves it so
    true_cfg_scale: float | None = Field(None, ge=MIN_TRUE_CFG_SCALE, le=MAX_TRUE_CFG_SCALE)
    # None: the result comes back inside the webhook (image_base64), as with local storage
    upload: UploadTarget | None = None


class DispatchAccepted(BaseModel):
    """The worker's 202 answer: the job is queued (or was already, for a repeated dispatch).

    `gpu` and `ahead` are what the worker could tell of its queue when it took the job, for the
    studio to say "starting a GPU" or "queued on the GPU, 3 ahead" until the job's first
    progress report; None where it cannot tell.
    """

    job_id: str
    status: Literal["accepted", "already accepted"]
    queue_depth: int
    # "starting": no GPU container (or no loaded model) was up, one is starting; "warm": one was
    gpu: Literal["warm", "starting"] | None = None
    # jobs the worker will start before this one
    ahead: int | None = Field(None, ge=0)


class WorkerHealth(BaseModel):
    """The worker's `GET /health` answer. `steps`/`lightning` say what a job runs with by default
    (a Lightning worker always runs its distilled step count), so the app need not ask 50 steps
    of an 8-step worker."""

    status: str
    model: str
    model_loaded: bool
    load_error: str | None
    busy: bool
    queue_depth: int
    engine: dict[str, Any]
    steps: int | None = None
    lightning: int | None = None


class CancelRequest(BaseModel):
    """The body of `POST /cancel` (signed like a dispatch): stop this job if it is queued or running."""

    job_id: str = Field(min_length=1, max_length=MAX_JOB_ID_CHARS, pattern=JOB_ID_PATTERN)


class CancelAnswer(BaseModel):
    """`canceling`: the worker found the job's call and asked it to stop; `unknown`: no such job here."""

    job_id: str
    status: Literal["canceling", "unknown"]


# what the jobs table's integer columns hold (Postgres integer): a larger number in a
# signed webhook is refused, not a database overflow (500)
MAX_INT32 = 2**31 - 1


class WebhookProgress(BaseModel):
    step: int = Field(ge=0, le=MAX_INT32)
    total: int = Field(ge=1, le=MAX_INT32)


class UploadedImage(BaseModel):
    """What the worker PUT to the dispatch's `upload` URL, for the app to check the object against."""

    bytes: int = Field(ge=1, le=MAX_INT32)
    sha256: str = Field(pattern=SHA256_PATTERN)


# the longest a job's GPU time can be in a report (a day): more is a broken clock, not a job
MAX_GPU_SECONDS = 86_400.0


class WebhookPayload(BaseModel):
    """The body a worker posts to `/api/generate/webhook`.

    A `completed` result carries the PNG either inline (`image_base64`) or, when the dispatch
    named an `upload`, as `image`: the uploaded object's size and SHA-256. `gpu_seconds` (the
    time generation held the GPU) and `cold_start_seconds` (the worker's start-up, charged to
    the first job it runs) come with `completed` and `failed`, and alone in a `processing` report
    after a job stopped because it ended elsewhere (canceled): the app records them, answers 409.
    """

    job_id: str
    status: Literal["processing", "completed", "failed"]
    image_base64: str | None = None
    image: UploadedImage | None = None
    error: str | None = None
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    timings: dict[str, float] | None = None
    progress: WebhookProgress | None = None
    gpu_seconds: float | None = Field(None, ge=0, le=MAX_GPU_SECONDS)
    cold_start_seconds: float | None = Field(None, ge=0, le=MAX_GPU_SECONDS)

    @model_validator(mode="after")
    def _one_image_at_most(self) -> WebhookPayload:
        if self.image_base64 is not None and self.image is not None:
            raise ValueError("a result carries image_base64 or image (uploaded), not both")
        return self

    def image_bytes(self) -> bytes | None:
        if self.image_base64 is None:
            return None
        try:
            return base64.b64decode(self.image_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest("image_base64 is not valid base64") from exc


# --- print post-processing (POST /postprocess) ----------------------------------------------
# the worker's operations on a finished design, in the order it runs them
POSTPROCESS_OPERATIONS = ("cutout", "upscale")
# the design sent inline: a 2048² PNG is under 12 MB, its base64 a third more
MAX_POSTPROCESS_BASE64_CHARS = 32 * 1024 * 1024


class PostprocessRequest(BaseModel):
    """The body of `POST /postprocess` (signed like a dispatch): a design made print-ready.

    The image comes inline (`image_base64`) or from `image_url` (a URL the worker GETs). The
    result is always `width` × `height`: `cutout` (a matting model's alpha) runs first, then
    `upscale` (super-resolution, then Lanczos to the exact size). With `upload` the worker PUTs
    the PNG there and answers its receipt; without, the PNG comes back in the answer.
    """

    job_id: str = Field(min_length=1, max_length=MAX_JOB_ID_CHARS, pattern=JOB_ID_PATTERN)
    image_url: str | None = Field(None, min_length=8, max_length=MAX_UPLOAD_URL_CHARS, pattern=r"^https?://[^\s]+$")
    image_base64: str | None = Field(None, min_length=1, max_length=MAX_POSTPROCESS_BASE64_CHARS)
    operations: list[Literal["cutout", "upscale"]] = Field(min_length=1, max_length=len(POSTPROCESS_OPERATIONS))
    width: int = Field(ge=1, le=SIDE_CEILING)
    height: int = Field(ge=1, le=SIDE_CEILING)
    upload: UploadTarget | None = None

    @model_validator(mode="after")
    def _one_image(self) -> PostprocessRequest:
        if (self.image_url is None) == (self.image_base64 is None):
            raise ValueError("give the image as image_url or image_base64, exactly one")
        if len(set(self.operations)) != len(self.operations):
            raise ValueError("operations must not repeat")
        return self


class PostprocessResult(BaseModel):
    """The worker's answer to `POST /postprocess`: the PNG inline, or the receipt of its upload.

    `made_by` names what made it ("worker: BiRefNet cutout, Real-ESRGAN ×4 upscale");
    `alpha_coverage` is the share of opaque pixels after a cutout, for the caller's own check.
    """

    job_id: str
    width: int
    height: int
    made_by: str
    image_base64: str | None = None
    image: UploadedImage | None = None
    alpha_coverage: float | None = Field(None, ge=0, le=1)
    timings: dict[str, float] = Field(default_factory=dict)
    gpu_seconds: float | None = Field(None, ge=0, le=MAX_GPU_SECONDS)
