"""Putting a finished PNG straight into the app's bucket, through the presigned URL its dispatch carried.

A PNG of 1328x1328 is 3.5-5.3 MB, a third more in base64: too big for the webhook behind many
hosts (Vercel refuses bodies over 4.5 MB, nginx over 1 MB by default). When the dispatch names
an `upload`, the worker PUTs the bytes there and its webhook carries only their size and
SHA-256, which the app checks against the stored object.

A PUT of the same bytes to the same key is idempotent, so a dropped connection, a timeout or
a 5xx is retried with backoff; another 4xx (an expired or refused signature) is final.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from core.worker_contract.messages import UploadedImage, UploadTarget

log = logging.getLogger(__name__)

# 5 tries over about half a minute: rides out a storage blip without holding the GPU queue long
DEFAULT_UPLOAD_BACKOFF_S: tuple[float, ...] = (1, 2, 4, 8)
DEFAULT_UPLOAD_TIMEOUT_S = 60.0  # one attempt: megabytes over a slow link


class UploadFailed(Exception):
    """The PNG could not be stored through the presigned URL; the message says why, for the job's error."""


def is_retryable(status_code: int) -> bool:
    return status_code >= 500 or status_code in (408, 429)


def receipt(png: bytes) -> UploadedImage:
    """What the webhook says of the uploaded bytes, for the app to check the object against."""
    return UploadedImage(bytes=len(png), sha256=hashlib.sha256(png).hexdigest())


class ResultUploader:
    """PUTs result PNGs to presigned URLs. `backoff_s` is the wait before each retry."""

    def __init__(
        self,
        *,
        timeout_s: float = DEFAULT_UPLOAD_TIMEOUT_S,
        backoff_s: Sequence[float] = DEFAULT_UPLOAD_BACKOFF_S,
        client: httpx.Client | None = None,
    ) -> None:
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)))
        self._backoff = tuple(backoff_s)
        self._closing = threading.Event()

    def upload(self, target: UploadTarget, png: bytes, job_id: str) -> UploadedImage:
        """Store `png` at `target`; its receipt, or UploadFailed once retrying cannot help."""
        where = urlsplit(target.url).netloc  # the signature in the query is a credential: never logged
        attempts = 0
        while True:
            attempts += 1
            problem, retry = self._put(target, png)
            if problem is None:
                log.info("result uploaded job_id=%s bytes=%d host=%s attempts=%d", job_id, len(png), where, attempts)
                return receipt(png)
            log.warning("upload attempt failed job_id=%s host=%s attempt=%d error=%s", job_id, where, attempts, problem)
            if not retry or attempts > len(self._backoff) or self._closing.wait(self._backoff[attempts - 1]):
                raise UploadFailed(f"the worker could not upload the image to storage ({where}) "
                                   f"after {attempts} attempt(s): {problem}")

    def _put(self, target: UploadTarget, png: bytes) -> tuple[str | None, bool]:
        """(None, _) when stored; else (what went wrong, whether another try may help)."""
        try:
            response = self._client.request(target.method, target.url, content=png, headers=target.headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}", True
        except RuntimeError:  # the client is closed: the worker is shutting down
            if not self._closing.is_set():
                raise
            return "the worker is shutting down", False
        if response.status_code < 300:
            return None, False
        return f"PUT answered {response.status_code}: {response.text[:300]}", is_retryable(response.status_code)

    def close(self) -> None:
        """Stop waiting between retries (shutdown) and release connections."""
        self._closing.set()
        self._client.close()
