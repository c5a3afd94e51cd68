"""PrintfulClient: Printful's v1 API — print-file sizes, the Mockup Generator, the catalog's
variants and the store's products.

  GET  /mockup-generator/printfiles/{product_id}   print file sizes per variant and placement
  POST /mockup-generator/create-task/{product_id}  start a mockup task -> task_key
  GET  /mockup-generator/task?task_key=...         the task: pending | completed | failed
  GET  /products/{product_id}                      a catalog product and its variants (colour, size, price)
  POST /store/products                             create a sync product (sync_product + sync_variants)
  GET  /store/products/@{external_id}              a sync product by our own id
  GET  /stores                                     the stores the token reaches (doctor's cheap check)

Every answer is Printful's envelope `{"code", "result"}`, errors `{"code", "result", "error":
{"reason", "message"}}`.

Rate limits (https://developers.printful.com/docs/): the API answers 429 when a limit is hit
and then locks the caller out for 60 seconds (create-task allows 10 calls a minute for
established stores, 2 for new ones). The client remembers the lockout — Retry-After when
Printful sends it, the documented 60 s otherwise — and waits it out before its next call, or
raises PrintfulRateLimited when the caller's deadline ends sooner. A 429'd call was refused,
not run, so it is always safe to send again; other failures are retried once only for GETs.
Clock and sleep are injectable so tests never wait for real.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from core.errors import UpstreamError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.printful.com"
LOCKOUT_S = 60.0  # Printful's documented lockout after a 429
MAX_RATE_LIMITED_TRIES = 3
RETRY_BACKOFF_S = 1.0  # before the one retry of a GET that failed for a reason other than a 429


class PrintfulError(UpstreamError):
    """Printful refused or failed a call; the message carries Printful's reason."""


class PrintfulRateLimited(PrintfulError):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"Printful rate limit: locked out for another {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


class PrintfulUnreachable(PrintfulError):
    """Printful did not answer, timed out, or failed on its side (5xx): worth trying again later."""


class PrintfulNotFound(PrintfulError):
    """Printful answered 404."""


class PrintfulTaskFailed(PrintfulError):
    pass


class PrintfulTimeout(PrintfulError):
    pass


@dataclass(frozen=True)
class Printfile:
    printfile_id: int
    width: int
    height: int
    dpi: int
    fill_mode: str = "fit"
    can_rotate: bool = False


@dataclass(frozen=True)
class PrintfileInfo:
    """The answer of GET /mockup-generator/printfiles/{id}."""

    product_id: int
    placements: dict[str, str]
    printfiles: dict[int, Printfile]
    variant_placements: dict[int, dict[str, int]]  # variant id -> placement -> printfile id

    @classmethod
    def from_api(cls, result: dict[str, Any]) -> PrintfileInfo:
        printfiles = {
            p["printfile_id"]: Printfile(
                printfile_id=p["printfile_id"], width=int(p["width"]), height=int(p["height"]), dpi=int(p["dpi"]),
                fill_mode=p.get("fill_mode", "fit"), can_rotate=bool(p.get("can_rotate", False)),
            )
            for p in result.get("printfiles", [])
        }
        variants = {v["variant_id"]: dict(v.get("placements", {})) for v in result.get("variant_printfiles", [])}
        return cls(int(result["product_id"]), dict(result.get("available_placements", {})), printfiles, variants)

    def for_variant(self, variant_id: int, placement: str) -> Printfile | None:
        printfile_id = self.variant_placements.get(variant_id, {}).get(placement)
        return self.printfiles.get(printfile_id) if printfile_id is not None else None

    def for_placement(self, placement: str) -> list[Printfile]:
        """Every distinct print file some variant uses at `placement`, in id order."""
        ids = {p[placement] for p in self.variant_placements.values() if placement in p}
        return [self.printfiles[i] for i in sorted(ids) if i in self.printfiles]


@dataclass(frozen=True)
class Mockup:
    placement: str
    variant_ids: list[int]
    mockup_url: str
    extra_urls: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MockupTask:
    task_key: str
    status: str  # pending | completed | failed
    error: str | None = None
    mockups: list[Mockup] = field(default_factory=list)

    @classmethod
    def from_api(cls, result: dict[str, Any]) -> MockupTask:
        mockups = [
            Mockup(
                placement=m.get("placement", ""), variant_ids=list(m.get("variant_ids", [])), mockup_url=m["mockup_url"],
                extra_urls=[e["url"] for e in m.get("extra", []) if "url" in e],
            )
            for m in result.get("mockups") or []
        ]
        return cls(str(result["task_key"]), str(result.get("status", "pending")), result.get("error") or None, mockups)


@dataclass(frozen=True)
class CatalogVariant:
    """One variant of a catalog product (GET /products/{id} -> result.variants[])."""

    variant_id: int
    name: str
    color: str
    color_code: str
    size: str
    price: str  # Printful's price for the blank, a decimal string in the store's currency
    in_stock: bool = True

    @classmethod
    def from_api(cls, variant: dict[str, Any]) -> CatalogVariant:
        return cls(
            variant_id=int(variant["id"]), name=str(variant.get("name", "")), color=str(variant.get("color") or ""),
            color_code=str(variant.get("color_code") or ""), size=str(variant.get("size") or ""),
            price=str(variant.get("price") or "0"), in_stock=bool(variant.get("in_stock", True)),
        )


@dataclass(frozen=True)
class SyncProduct:
    """A product in the store (POST /store/products -> result: {"id", "external_id", "name", ...})."""

    product_id: int
    external_id: str
    name: str


def retry_after_s(response: httpx.Response, default_s: float = LOCKOUT_S) -> float:
    """Seconds to wait after a 429: Retry-After (seconds or a date), the message's
    'after N seconds', else Printful's documented lockout."""
    header = response.headers.get("retry-after", "").strip()
    if header.isdigit():
        return float(header)
    if header:
        try:
            return max(0.0, (parsedate_to_datetime(header) - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            pass
    found = re.search(r"after (\d+) seconds?", response.text)
    return float(found.group(1)) if found else default_s


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(body.get("result", ""))[:200] if isinstance(body, dict) else str(body)[:200]


class PrintfulClient:
    """Printful's mockup generator with a timeout on every call and the rate-limit lockout honoured."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout_s: float = 15.0,
        store_id: str | None = None,
        first_poll_s: float = 10.0,
        poll_interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        if store_id:
            headers["X-PF-Store-Id"] = store_id
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)
        self._first_poll_s = first_poll_s  # Printful: first result check not sooner than 10 s
        self._poll_interval_s = poll_interval_s
        self._clock = clock
        self._sleep = sleep
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    # --- the API -----------------------------------------------------------------------
    def printfiles(self, product_id: int, *, within_s: float | None = None) -> PrintfileInfo:
        result = self._call("GET", f"/mockup-generator/printfiles/{product_id}", deadline=self._deadline(within_s))
        return PrintfileInfo.from_api(result)

    def create_mockup_task(
        self, product_id: int, variant_ids: Sequence[int], files: Sequence[dict[str, Any]], *,
        image_format: str = "png", width: int = 1000, within_s: float | None = None,
    ) -> MockupTask:
        """Start a mockup task; `files` are Printful's GenerationTaskFile objects
        ({"placement", "image_url", "position"?})."""
        body = {"variant_ids": list(variant_ids), "format": image_format, "width": width, "files": list(files)}
        result = self._call("POST", f"/mockup-generator/create-task/{product_id}", json=body, deadline=self._deadline(within_s))
        return MockupTask.from_api(result)

    def get_mockup_task(self, task_key: str, *, within_s: float | None = None) -> MockupTask:
        result = self._call("GET", "/mockup-generator/task", params={"task_key": task_key}, deadline=self._deadline(within_s))
        return MockupTask.from_api(result)

    def wait_for_mockups(self, task_key: str, *, within_s: float = 120.0) -> MockupTask:
        """Poll the task until it completes; PrintfulTaskFailed or PrintfulTimeout otherwise."""
        deadline = self._clock() + within_s
        delay = self._first_poll_s
        while True:
            if self._clock() + delay > deadline:
                raise PrintfulTimeout(f"Printful mockup task {task_key} not done within {within_s:g} s")
            self._sleep(delay)
            task = self.get_mockup_task(task_key, within_s=deadline - self._clock())
            if task.status == "completed":
                return task
            if task.status == "failed":
                raise PrintfulTaskFailed(f"Printful mockup task {task_key} failed: {task.error or 'no reason given'}")
            delay = self._poll_interval_s

    def generate_mockups(
        self, product_id: int, variant_ids: Sequence[int], image_url: str, placement: str, *, within_s: float = 120.0
    ) -> list[Mockup]:
        """create-task + wait: the mockups of one print file on `variant_ids`."""
        deadline = self._clock() + within_s
        task = self.create_mockup_task(
            product_id, variant_ids, [{"placement": placement, "image_url": image_url}], within_s=within_s
        )
        return self.wait_for_mockups(task.task_key, within_s=max(0.0, deadline - self._clock())).mockups

    # --- the catalog and the store ----------------------------------------------------------
    def catalog_variants(self, product_id: int, *, within_s: float | None = None) -> list[CatalogVariant]:
        """GET /products/{id}: result {"product": {...}, "variants": [{"id", "name", "size", "color",
        "color_code", "price", "in_stock", ...}]}."""
        result = self._call("GET", f"/products/{product_id}", deadline=self._deadline(within_s))
        return [CatalogVariant.from_api(v) for v in result.get("variants", [])]

    def create_sync_product(self, body: dict[str, Any], *, within_s: float | None = None) -> SyncProduct:
        """POST /store/products with {"sync_product": {"external_id", "name", "thumbnail"},
        "sync_variants": [{"variant_id", "retail_price", "files": [{"type", "url"}]}]}. Never
        retried here: a repeat could make a second product (the caller looks it up by external_id)."""
        result = self._call("POST", "/store/products", json=body, deadline=self._deadline(within_s))
        return SyncProduct(int(result["id"]), str(result.get("external_id") or ""), str(result.get("name") or ""))

    def sync_product_by_external_id(self, external_id: str, *, within_s: float | None = None) -> SyncProduct | None:
        """GET /store/products/@{external_id}: the product made earlier with our id, None when there is none."""
        try:
            result = self._call("GET", f"/store/products/@{external_id}", deadline=self._deadline(within_s))
        except PrintfulNotFound:
            return None
        product = result.get("sync_product", result)
        return SyncProduct(int(product["id"]), str(product.get("external_id") or ""), str(product.get("name") or ""))

    def stores(self, *, within_s: float | None = None) -> list[dict[str, Any]]:
        """GET /stores: the stores this token may use (one authenticated call, nothing changed)."""
        result = self._call("GET", "/stores", deadline=self._deadline(within_s))
        return list(result) if isinstance(result, list) else [result]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PrintfulClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one call, with the lockout and the retries ------------------------------------
    def _deadline(self, within_s: float | None) -> float | None:
        return None if within_s is None else self._clock() + within_s

    def _wait_out_lockout(self, deadline: float | None) -> None:
        with self._lock:
            wait = self._blocked_until - self._clock()
        if wait <= 0:
            return
        if deadline is not None and self._clock() + wait > deadline:
            raise PrintfulRateLimited(wait)
        log.info("printful lockout, waiting wait_s=%.1f", wait)
        self._sleep(wait)

    def _call(self, method: str, path: str, *, deadline: float | None, **kwargs: Any) -> dict[str, Any]:
        rate_limited = 0
        retried = False
        while True:
            self._wait_out_lockout(deadline)
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:  # timeouts included
                if not retried and self._may_retry(method, deadline):
                    retried = True
                    continue
                what = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else "could not be reached"
                raise PrintfulUnreachable(f"Printful {what} ({method} {path})") from exc
            if response.status_code == 429:
                rate_limited += 1
                wait = retry_after_s(response)
                with self._lock:
                    self._blocked_until = max(self._blocked_until, self._clock() + wait)
                log.warning("printful rate limited path=%s retry_after_s=%.0f", path, wait)
                if rate_limited >= MAX_RATE_LIMITED_TRIES:
                    raise PrintfulRateLimited(wait)
                continue
            if response.status_code >= 500 and not retried and self._may_retry(method, deadline):
                retried = True
                continue
            if response.status_code >= 500:
                raise PrintfulUnreachable(
                    f"Printful answered {response.status_code} to {method} {path}: {_error_message(response)}")
            if response.status_code == 404:
                raise PrintfulNotFound(f"Printful answered 404 to {method} {path}: {_error_message(response)}")
            if response.status_code >= 400:
                raise PrintfulError(f"Printful answered {response.status_code} to {method} {path}: {_error_message(response)}")
            return response.json()["result"]

    def _may_retry(self, method: str, deadline: float | None) -> bool:
        """Only GETs are retried (a repeated create-task could start a second task), after a
        short backoff, and only when the deadline leaves room for it."""
        if method != "GET" or (deadline is not None and self._clock() + RETRY_BACKOFF_S > deadline):
            return False
        self._sleep(RETRY_BACKOFF_S)
        return True
