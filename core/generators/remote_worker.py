"""RemoteWorkerDispatcher: hands jobs to the GPU worker (on Modal, or self-hosted) over HTTP.

The worker answers 202 at once and posts the result to the job's signed webhook later.
Dispatches are signed with the same shared secret, so only this app can spend GPU time.
A dropped connection, a timeout or a 5xx is retried with exponential backoff and jitter,
a bounded number of times; a 4xx is final. A retried hand-over may reach the worker twice
(the first answer was lost): the request carries `Idempotency-Key: <job_id>`, and a
duplicate result is harmless because results are applied idempotently.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import httpx
from pydantic import ValidationError

from core.errors import GeneratorUnavailable
from core.generators.base import GenerationRequest, ResultSink
from core.logsafe import safe
from core.worker_contract.messages import DispatchRequest
from core.worker_contract.webhooks import SignedRequestAuth

log = logging.getLogger(__name__)

Backoff = Callable[[int], float]


def exponential_backoff(base_s: float = 0.5, cap_s: float = 8.0) -> Backoff:
    """Delay before retry `n` (1, 2, ...): full jitter over base * 2^(n-1), capped."""

    def delay(retry: int) -> float:
        return random.uniform(0, min(cap_s, base_s * 2 ** (retry - 1)))

    return delay


def dispatch_body(request: GenerationRequest) -> dict[str, object]:
    """The JSON the worker's `POST /generate` takes; GeneratorUnavailable when the job breaks the contract."""
    try:
        body = DispatchRequest(
            job_id=request.job_id,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            width=request.width,
            height=request.height,
            seed=request.seed,
            steps=request.steps,
            webhook_url=request.webhook_url,  # type: ignore[arg-type]  (validated into a URL)
            upload=request.upload,
        )
    except ValidationError as exc:  # the worker would answer 422: say so without the round trip
        raise GeneratorUnavailable(f"the job does not fit the GPU worker's limits: {exc}") from exc
    return body.model_dump(mode="json", exclude_none=True)


class RemoteWorkerDispatcher:
    model_name = "qwen-image"
    label = f"{model_name} on the GPU worker"

    def __init__(
        self,
        endpoint: str,
        secret: str,
        timeout_s: float = 15.0,
        max_attempts: int = 4,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = endpoint.rstrip("/") + "/generate"
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)), auth=SignedRequestAuth(secret)
        )
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff or exponential_backoff()
        self._sleep = sleep

    def submit(self, request: GenerationRequest, sink: ResultSink) -> None:
        body = dispatch_body(request)
        problem = ""
        for attempt in range(1, self._max_attempts + 1):
            if attempt > 1:
                self._sleep(self._backoff(attempt - 1))
            try:
                response = self._client.post(
                    self._url, json=body, headers={"idempotency-key": request.job_id}
                )
            except httpx.HTTPError as exc:
                problem = f"GPU worker unreachable at {self._url}: {exc}"
            else:
                if response.status_code < 300:
                    log.info("job dispatched job_id=%s worker=%s attempt=%s", request.job_id, self._url, attempt)
                    return
                problem = f"GPU worker refused the job ({response.status_code}): {response.text[:500]}"
                if response.status_code < 500:
                    raise GeneratorUnavailable(problem)
            log.warning("dispatch attempt failed job_id=%s attempt=%s error=%s", request.job_id, attempt, safe(problem))
        raise GeneratorUnavailable(f"{problem} (after {self._max_attempts} attempts)")

    def close(self) -> None:
        self._client.close()
