"""RemotePostprocessor: print files cut out and upscaled by the GPU worker's models.

It posts the design to the worker's signed `POST /postprocess` (BiRefNet cutout, Real-ESRGAN
upscale to the exact size) and waits for the PNG. A dropped connection, a timeout or a 5xx is
retried with backoff (the request is idempotent: the same design gives the same file); a 4xx
is final. The answer is not trusted: a PNG of another size, or a cutout that is empty, full or
mostly half-transparent (`cutout_problem`), is set aside and the file is made locally, and so
is any file the worker could not make. Its `made_by` then says the local path made it, and why.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import time
from collections.abc import Callable

import httpx
from PIL import Image
from pydantic import ValidationError

from core.generators.remote_worker import Backoff, exponential_backoff
from core.logsafe import safe
from core.printing.processors import LocalPrintProcessor, PreparedDesign, PrintProcessor, cutout_problem
from core.worker_contract.messages import PostprocessRequest, PostprocessResult
from core.worker_contract.webhooks import SignedRequestAuth

log = logging.getLogger(__name__)

# A print file is asked for while someone waits: long enough for a warm worker's seconds and a
# small GPU's cold start, short enough that the local path still answers the same request.
DEFAULT_TIMEOUT_S = 90.0
MAX_ANSWER_BYTES = 128 * 1024 * 1024


class PostprocessUnavailable(Exception):
    """The worker gave no usable answer; the message says why (for `made_by` and the log)."""


class RemotePostprocessor:
    """A PrintProcessor on the GPU worker at `endpoint`, with `fallback` (local) when it fails."""

    label = "worker: matting cutout, super-resolution upscale"

    def __init__(
        self,
        endpoint: str,
        secret: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_attempts: int = 3,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        fallback: PrintProcessor | None = None,
    ) -> None:
        self._url = endpoint.rstrip("/") + "/postprocess"
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)), auth=SignedRequestAuth(secret)
        )
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff or exponential_backoff()
        self._sleep = sleep
        self.fallback = fallback or LocalPrintProcessor()

    def prepare(self, design: Image.Image, *, cutout: bool, size: tuple[int, int], job_id: str = "") -> PreparedDesign:
        if not cutout and size[0] <= design.width and size[1] <= design.height:
            # nothing for a model to do: a downscale of an opaque design is a Lanczos resize anywhere
            return self.fallback.prepare(design, cutout=False, size=size, job_id=job_id)
        try:
            image, made_by = self._ask_worker(design, cutout=cutout, size=size, job_id=job_id)
        except PostprocessUnavailable as exc:
            log.warning("print file made locally job_id=%s reason=%s", safe(job_id), safe(str(exc)[:300]))
            local = self.fallback.prepare(design, cutout=cutout, size=size, job_id=job_id)
            return PreparedDesign(local.image, local.background_removed, f"{local.made_by} ({exc})")
        log.info("print file made on the worker job_id=%s made_by=%r", safe(job_id), made_by)
        return PreparedDesign(image, background_removed=cutout, made_by=made_by)

    def _ask_worker(self, design: Image.Image, *, cutout: bool, size: tuple[int, int], job_id: str) -> tuple[Image.Image, str]:
        """The worker's image and made_by, checked; PostprocessUnavailable saying why not."""
        buffer = io.BytesIO()
        design.save(buffer, format="PNG", compress_level=1)
        body = PostprocessRequest(
            job_id=job_id or "print-file",
            image_base64=base64.b64encode(buffer.getvalue()).decode(),
            operations=["cutout", "upscale"] if cutout else ["upscale"],
            width=size[0],
            height=size[1],
        ).model_dump(mode="json", exclude_none=True)
        result = self._post(body, job_id)
        if result.image_base64 is None:
            raise PostprocessUnavailable("the worker's answer carries no image")
        try:
            png = base64.b64decode(result.image_base64, validate=True)
            with Image.open(io.BytesIO(png)) as opened:
                opened.load()
                image = opened.copy()
        except (binascii.Error, ValueError, OSError, Image.DecompressionBombError) as exc:
            raise PostprocessUnavailable(f"the worker's image is unreadable: {exc}") from exc
        if image.size != size:
            raise PostprocessUnavailable(f"the worker's image is {image.width}x{image.height}, not {size[0]}x{size[1]}")
        if cutout:
            problem = cutout_problem(image)
            if problem is not None:
                raise PostprocessUnavailable(f"the worker's cutout was refused: {problem}")
        return image, result.made_by

    def _post(self, body: dict[str, object], job_id: str) -> PostprocessResult:
        problem = ""
        for attempt in range(1, self._max_attempts + 1):
            if attempt > 1:
                self._sleep(self._backoff(attempt - 1))
            try:
                response = self._client.post(self._url, json=body)
            except httpx.HTTPError as exc:
                problem = f"the GPU worker is unreachable: {type(exc).__name__}"
            else:
                if response.status_code < 300:
                    if len(response.content) > MAX_ANSWER_BYTES:
                        raise PostprocessUnavailable("the worker's answer is too large")
                    try:
                        return PostprocessResult.model_validate_json(response.content)
                    except ValidationError as exc:
                        raise PostprocessUnavailable(f"the worker's answer is not a result: {exc.error_count()} errors") from exc
                detail = _detail(response)
                problem = f"the GPU worker answered {response.status_code}: {detail}"
                if response.status_code < 500:
                    raise PostprocessUnavailable(problem)
            log.warning("postprocess attempt failed job_id=%s attempt=%d error=%s", safe(job_id), attempt, safe(problem))
        raise PostprocessUnavailable(f"{problem} (after {self._max_attempts} attempts)")

    def close(self) -> None:
        self._client.close()


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail if detail is not None else response.text)[:300]
