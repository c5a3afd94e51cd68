"""RemoteWorkerDispatcher: hands jobs to the GPU worker (on Modal, or self-hosted) over HTTP.

The worker answers 202 at once and posts the result to the job's signed webhook later.
Dispatches are signed with the same shared secret, so only this app can spend GPU time.
A dropped connection, a timeout or a 5xx is retried with exponential backoff and jitter,
a bounded number of times; a 4xx is final. A retried hand-over may reach the worker twice
(the first answer was lost): the request carries `Idempotency-Key: <job_id>`, and a
duplicate result is harmless because results are applied idempotently.

Before its first dispatch it reads the worker's `GET /health` once (best effort, short
timeout): a Lightning worker runs its distilled step count whatever it is asked, so the
dispatch names those steps instead of the app's default. `cancel` posts a signed
`POST /cancel` so a canceled job stops taking GPU time; the worker's 409 answer to the
job's next progress report stays the backstop.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import httpx
from pydantic import ValidationError

from core.errors import GeneratorUnavailable
from core.generators.base import GenerationRequest, ResultSink, WorkerQueue
from core.logsafe import safe
from core.worker_contract.messages import CancelRequest, DispatchAccepted, DispatchRequest, WorkerHealth
from core.worker_contract.webhooks import SignedRequestAuth

log = logging.getLogger(__name__)

Backoff = Callable[[int], float]
PROBE_TIMEOUT_S = 5.0  # the health read and the cancel: one try each, never holding up a job for long


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


def worker_queue(response: httpx.Response) -> WorkerQueue | None:
    """What the worker's 202 says of its queue; None from an answer that says nothing readable
    (the job was accepted all the same)."""
    try:
        accepted = DispatchAccepted.model_validate_json(response.content)
    except ValidationError:
        return None
    return WorkerQueue(gpu=accepted.gpu, ahead=accepted.ahead)


class RemoteWorkerDispatcher:
    model_name = "qwen-image"
    runs_in_process = False
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
        self._base = endpoint.rstrip("/")
        self._url = self._base + "/generate"
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)), auth=SignedRequestAuth(secret)
        )
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff or exponential_backoff()
        self._sleep = sleep
        self._probe_timeout = httpx.Timeout(min(timeout_s, PROBE_TIMEOUT_S))
        self._health_lock = threading.Lock()
        self._health_read = False
        self.worker_health: WorkerHealth | None = None

    def read_worker_health(self) -> WorkerHealth | None:
        """The worker's `/health`, read at the first dispatch only; None when it could not be read."""
        with self._health_lock:
            if self._health_read:
                return self.worker_health
            self._health_read = True
            try:
                response = self._client.get(self._base + "/health", timeout=self._probe_timeout)
                response.raise_for_status()
                self.worker_health = WorkerHealth.model_validate_json(response.content)
            except (httpx.HTTPError, ValidationError) as exc:
                log.info("worker health unread worker=%s error=%s", self._base, safe(str(exc)[:200]))
                return None
            log.info("worker health read worker=%s model=%s steps=%s lightning=%s", self._base,
                     safe(self.worker_health.model), self.worker_health.steps, self.worker_health.lightning)
            return self.worker_health

    def submit(self, request: GenerationRequest, sink: ResultSink) -> WorkerQueue | None:
        health = self.read_worker_health()
        if health is not None and health.lightning and health.steps and request.steps != health.steps:
            # a Lightning worker runs its distilled steps whatever it is asked: ask for those
            request = replace(request, steps=health.steps)
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
                    return worker_queue(response)
                problem = f"GPU worker refused the job ({response.status_code}): {response.text[:500]}"
                if response.status_code < 500:
                    raise GeneratorUnavailable(problem)
            log.warning("dispatch attempt failed job_id=%s attempt=%s error=%s", request.job_id, attempt, safe(problem))
        raise GeneratorUnavailable(f"{problem} (after {self._max_attempts} attempts)")

    def cancel(self, job_id: str) -> None:
        """Ask the worker to stop a job (signed `POST /cancel`, one try); a failure is only logged."""
        body = CancelRequest(job_id=job_id).model_dump(mode="json")
        try:
            response = self._client.post(self._base + "/cancel", json=body, timeout=self._probe_timeout)
        except httpx.HTTPError as exc:
            log.warning("cancel not delivered job_id=%s error=%s", safe(job_id), safe(str(exc)[:200]))
            return
        log.info("cancel sent job_id=%s status=%s", safe(job_id), response.status_code)

    def close(self) -> None:
        self._client.close()
