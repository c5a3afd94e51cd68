"""One `POST /postprocess` request on the worker: fetch the design, run the print models, answer or upload.

Both doors call `answer_postprocess`: the self-hosted worker app (`worker_app.py`) in its
thread pool, and on Modal the `PrintPostprocessor` GPU class (`qwen_generator.py`), which the
dispatch front calls synchronously. It returns the HTTP status and body, so a Modal call
carries a refusal back to the front as plainly as a result: 422 for an image or size the
models cannot take, 502 when the image could not be fetched or the upload failed, 503 when
the worker has no print models (their message names what is missing and how to fetch it).
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import ValidationError

from core.worker_contract.engine import InferenceError
from core.worker_contract.messages import PostprocessRequest, PostprocessResult
from modal_app.inference_errors import ModelWeightsMissing
from modal_app.uploads import ResultUploader, UploadFailed

if TYPE_CHECKING:  # torch loads with the engine, not with this module (the dispatch front has no torch)
    from modal_app.postprocess import PostprocessEngine

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 30.0
MAX_FETCH_BYTES = 64 * 1024 * 1024


class PrintModels:
    """The print models, loaded at the first request that needs them (a load that failed is tried again)."""

    def __init__(self, load: Callable[[], PostprocessEngine]) -> None:
        self._load = load
        self._engine: PostprocessEngine | None = None
        self._lock = threading.Lock()

    @classmethod
    def loaded(cls, engine: PostprocessEngine) -> PrintModels:
        models = cls(lambda: engine)
        models._engine = engine
        return models

    def engine(self) -> PostprocessEngine:
        with self._lock:
            if self._engine is None:
                self._engine = self._load()
            return self._engine


def _fetch(url: str, client: httpx.Client) -> bytes:
    """The image at `url`, refusing more than MAX_FETCH_BYTES; ValueError saying why it could not be read."""
    try:
        with client.stream("GET", url, timeout=FETCH_TIMEOUT_S, follow_redirects=True) as response:
            if response.status_code >= 300:
                raise ValueError(f"GET answered {response.status_code}")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_FETCH_BYTES:
                    raise ValueError(f"the image is over {MAX_FETCH_BYTES} bytes")
            return bytes(data)
    except httpx.HTTPError as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from exc


def _error(status_code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status_code, {"detail": message[:1000]}


def answer_postprocess(
    models: PrintModels,
    payload: dict[str, Any],
    *,
    uploader: ResultUploader | None = None,
    client: httpx.Client | None = None,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) for one post-processing request, whose signature was checked by the caller."""
    try:
        body = PostprocessRequest.model_validate(payload)
    except ValidationError as exc:
        return _error(422, f"not a post-processing request: {exc.errors(include_url=False)}")
    began = time.monotonic()
    if body.image_base64 is not None:
        try:
            png = base64.b64decode(body.image_base64, validate=True)
        except (binascii.Error, ValueError):
            return _error(422, "image_base64 is not valid base64")
    else:
        assert body.image_url is not None
        owned = client is None
        client = client or httpx.Client()
        try:
            png = _fetch(body.image_url, client)
        except ValueError as exc:
            host = httpx.URL(body.image_url).host  # the query may be a credential: never logged
            log.warning("postprocess fetch failed job_id=%s host=%s error=%s", body.job_id, host, exc)
            return _error(502, f"the worker could not fetch the image from {host}: {exc}")
        finally:
            if owned:
                client.close()
    try:
        output = models.engine().run(png, body.operations, body.width, body.height)
    except ModelWeightsMissing as exc:
        log.error("postprocess unavailable job_id=%s error=%s", body.job_id, exc)
        return _error(503, str(exc))
    except InferenceError as exc:
        return _error(422, str(exc))
    result = PostprocessResult(
        job_id=body.job_id, width=output.width, height=output.height, made_by=output.made_by,
        alpha_coverage=output.alpha_coverage, timings=output.timings,
        gpu_seconds=round(time.monotonic() - began, 3),
    )
    if body.upload is not None:
        if uploader is None:
            return _error(503, "this worker cannot upload results")
        try:
            result.image = uploader.upload(body.upload, output.png, body.job_id)
        except UploadFailed as exc:
            return _error(502, str(exc))
    else:
        result.image_base64 = base64.b64encode(output.png).decode()
    log.info("postprocessed job_id=%s operations=%s size=%dx%d made_by=%r timings=%s", body.job_id,
             ",".join(body.operations), output.width, output.height, output.made_by, output.timings)
    return 200, result.model_dump(mode="json", exclude_none=True)
