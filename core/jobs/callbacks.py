"""Result callbacks: a job's terminal status POSTed to the `callback_url` its caller gave.

Each callback is the job's status body (the same JSON as `GET /api/generate/status/{id}`),
signed the Standard Webhooks way with the app's webhook secret. The `webhook-id` is the same
on every attempt for one job and status, so a receiver can drop repeats.

Delivery is best-effort and at-least-once while the process lives: background threads send
it off the request path, with a timeout, retrying timeouts, network errors, 408, 429 and 5xx
after each of `retry_delays_s`; any other answer is final. Every attempt is recorded on the
job (`callback_attempts`, and `callback_state` once delivered or abandoned), so after a
restart the recovery pass (`GenerationService.redeliver_owed_callbacks`) sends the ones still
owed. Two processes may then both send one: receivers dedupe on `webhook-id`.

Callback URLs are http(s) only and may not point at loopback, private, link-local or other
reserved addresses unless TENKAIGEN_CALLBACK_ALLOW_PRIVATE is set: checked when the job is
created (literal addresses, `localhost`) and again when sending (the host's resolved addresses).
"""

from __future__ import annotations

import heapq
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic_core import to_json

from core.errors import InvalidRequest, JobNotFound
from core.jobs.limits import MAX_CALLBACK_URL_CHARS
from core.jobs.models import Job
from core.jobs.status import JobStatus
from core.jobs.store import JobStore
from core.worker_contract.webhooks import WebhookSigner

log = logging.getLogger(__name__)

DELIVERED = "delivered"
ABANDONED = "abandoned"
# like Replicate's and fal's: a few tries over minutes
DEFAULT_RETRY_DELAYS_S: tuple[float, ...] = (10.0, 60.0, 300.0)
RETRYABLE_STATUSES = frozenset({408, 429})
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def check_callback_url(url: str, allow_private: bool = False) -> str:
    """The URL, stripped, if a callback may be sent to it; InvalidRequest naming the problem otherwise."""
    url = url.strip()
    if len(url) > MAX_CALLBACK_URL_CHARS:
        raise InvalidRequest(f"callback_url is too long: {len(url)} characters, the limit is {MAX_CALLBACK_URL_CHARS}")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port out of range
    except ValueError:
        raise InvalidRequest("callback_url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("callback_url must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise InvalidRequest("callback_url must not carry credentials")
    if not allow_private and _is_private_host(parts.hostname):
        raise InvalidRequest("callback_url must not point at a loopback or private address")
    return url


def _is_private_host(host: str) -> bool:
    if host.lower().rstrip(".") in _LOCAL_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return _is_private_address(ipaddress.ip_address(host))
    except ValueError:
        return False  # a name: its addresses are checked when sending


def _is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _resolves_to_private(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # unresolvable: the attempt fails as a network error and is retried
    return any(_is_private_address(ipaddress.ip_address(info[4][0].split("%")[0])) for info in infos)


def status_body(job: Job, public_url: str) -> dict[str, Any]:
    """The job's status as the API shows it (api.schemas.JobStatusResponse's fields)."""
    brief = job.parsed_prompt or {}
    image_url = job.image_url
    if image_url and image_url.startswith("/"):
        image_url = public_url.rstrip("/") + image_url
    progress = None
    if job.progress_step is not None and job.progress_total:
        progress = {"step": job.progress_step, "total": job.progress_total}
    gpu_queue = None
    if job.status is JobStatus.PROCESSING and progress is None and job.gpu_wait:
        gpu_queue = {"wait": job.gpu_wait, "ahead": job.queue_ahead}
    return {
        "job_id": job.id,
        "status": job.status.value,
        "prompt": job.prompt,
        "final_prompt": brief.get("prompt"),
        "final_negative_prompt": brief.get("negative_prompt"),
        "steps": brief.get("steps"),
        "image_url": image_url,
        "error": job.error,
        "processing_time_ms": job.processing_time_ms,
        "created_at": job.created_at,
        "completed_at": job.completed_at,
        "style": job.style,
        "product": job.product,
        "seed": job.seed,
        "progress": progress,
        "gpu_queue": gpu_queue,
        "favorite": job.favorite,
    }


@dataclass(order=True)
class _Due:
    at: float
    job_id: str = field(compare=False)
    attempt: int = field(compare=False)  # attempts made before this one


class CallbackDispatcher:
    """Sends owed callbacks from background threads; `notify` never blocks on the network."""

    def __init__(
        self,
        jobs: JobStore,
        secret: str,
        public_url: str,
        *,
        allow_private: bool = False,
        timeout_s: float = 10.0,
        retry_delays_s: Sequence[float] = DEFAULT_RETRY_DELAYS_S,
        threads: int = 4,
    ) -> None:
        self._jobs = jobs
        self._signer = WebhookSigner(secret)
        self._public_url = public_url
        self.allow_private = allow_private
        self._timeout_s = timeout_s
        self._delays = tuple(retry_delays_s)
        self._queue: list[_Due] = []
        self._owed: set[str] = set()  # queued or being sent by this process
        self._wake = threading.Condition()
        self._closed = False
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._threads = [
            threading.Thread(target=self._run, name=f"job-callbacks-{i}", daemon=True) for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def max_attempts(self) -> int:
        return 1 + len(self._delays)

    @property
    def retry_span_s(self) -> float:
        """How long one job's deliveries may take in this process, at most."""
        return sum(self._delays) + self.max_attempts * self._timeout_s

    def check_url(self, url: str) -> str:
        return check_callback_url(url, self.allow_private)

    def notify(self, job: Job) -> bool:
        """Queue the job's callback if one is owed and not already queued here; True when queued."""
        if not job.callback_url or job.callback_state is not None or not job.status.is_terminal:
            return False
        with self._wake:
            if self._closed or job.id in self._owed:
                return False
            self._owed.add(job.id)
            attempt = min(job.callback_attempts, self.max_attempts - 1)
            heapq.heappush(self._queue, _Due(time.monotonic(), job.id, attempt))
            self._wake.notify()
        return True

    def pending(self) -> int:
        with self._wake:
            return len(self._owed)

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop sending; callbacks still owed stay recorded for the next process's recovery pass."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=timeout_s)
        self._client.close()

    # --- the sending threads --------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._closed and (not self._queue or self._queue[0].at > time.monotonic()):
                    wait = self._queue[0].at - time.monotonic() if self._queue else None
                    self._wake.wait(timeout=wait)
                if self._closed:
                    return
                due = heapq.heappop(self._queue)
            try:
                retry = self._attempt(due)
            except Exception:  # the database may be away: the job stays owed for the recovery pass
                log.exception("callback attempt failed job_id=%s", due.job_id)
                retry = False
            with self._wake:
                if retry and not self._closed:
                    heapq.heappush(self._queue, _Due(time.monotonic() + self._delays[due.attempt], due.job_id,
                                                     due.attempt + 1))
                    self._wake.notify()
                else:
                    self._owed.discard(due.job_id)

    def _attempt(self, due: _Due) -> bool:
        """One delivery attempt, recorded on the job; True when another attempt should follow."""
        try:
            job = self._jobs.get(due.job_id)
        except JobNotFound:
            return False
        if not job.callback_url or job.callback_state is not None:
            return False
        outcome, retryable = self._send(job)
        last = due.attempt + 1 >= self.max_attempts
        state = DELIVERED if outcome == DELIVERED else (ABANDONED if last or not retryable else None)
        self._jobs.record_callback_attempt(job.id, state)
        log.info("callback attempt job_id=%s attempt=%s outcome=%s state=%s",
                 job.id, due.attempt + 1, outcome, state or "owed")
        return state is None

    def _send(self, job: Job) -> tuple[str, bool]:
        """POST the signed status body: (outcome, retryable)."""
        assert job.callback_url
        host = urlsplit(job.callback_url).hostname or ""
        if not self.allow_private and (_is_private_host(host) or _resolves_to_private(host)):
            return "refused: the host resolves to a private address", False
        body = to_json(status_body(job, self._public_url))  # pydantic's JSON, as the API writes it
        headers = self._signer.headers(body, msg_id=f"msg_{job.id}_{job.status.value}")
        try:
            answer = self._client.post(job.callback_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"network error: {type(exc).__name__}", True
        if answer.is_success:
            return DELIVERED, False
        retryable = answer.status_code in RETRYABLE_STATUSES or answer.status_code >= 500
        return f"HTTP {answer.status_code}", retryable
