"""ModalGenerator: hands jobs to the GPU worker (on Modal, or self-hosted) over HTTP.

The worker answers 202 at once and posts the result to the job's signed webhook later.
Dispatches are signed with the same shared secret, so only this app can spend GPU time.
"""

from __future__ import annotations

import logging

import httpx

from core.errors import GeneratorUnavailable
from core.generators.base import GenerationRequest, ResultSink
from core.webhooks import SignedRequestAuth

log = logging.getLogger(__name__)


class ModalGenerator:
    model_name = "qwen-image"

    def __init__(self, endpoint: str, secret: str, timeout_s: float = 15.0) -> None:
        self._url = endpoint.rstrip("/") + "/generate"
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)), auth=SignedRequestAuth(secret)
        )

    def submit(self, request: GenerationRequest, sink: ResultSink) -> None:
        try:
            response = self._client.post(self._url, json=request.worker_body())
        except httpx.HTTPError as exc:
            raise GeneratorUnavailable(f"GPU worker unreachable at {self._url}: {exc}") from exc
        if response.status_code >= 300:
            raise GeneratorUnavailable(
                f"GPU worker refused the job ({response.status_code}): {response.text[:500]}"
            )
        log.info("job dispatched job_id=%s worker=%s", request.job_id, self._url)

    def close(self) -> None:
        self._client.close()
