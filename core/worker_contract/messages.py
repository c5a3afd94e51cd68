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

from pydantic import AnyHttpUrl, BaseModel, Field

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


class DispatchAccepted(BaseModel):
    """The worker's 202 answer: the job is queued (or was already, for a repeated dispatch)."""

    job_id: str
    status: Literal["accepted", "already accepted"]
    queue_depth: int


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


class WebhookPayload(BaseModel):
    """The body a worker posts to `/api/generate/webhook`."""

    job_id: str
    status: Literal["processing", "completed", "failed"]
    image_base64: str | None = None
    error: str | None = None
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    timings: dict[str, float] | None = None
    progress: WebhookProgress | None = None

    def image_bytes(self) -> bytes | None:
        if self.image_base64 is None:
            return None
        try:
            return base64.b64decode(self.image_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest("image_base64 is not valid base64") from exc
