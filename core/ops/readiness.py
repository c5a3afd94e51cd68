"""Readiness: may this process take traffic? GET /api/ready (api/routes/ops.py) answers from here.

Liveness (GET /api/health) says the process answers; readiness says the parts a request
needs answer too: the database (a trivial query on a fresh connection), the bucket (HEAD
bucket; for local storage, its folder exists) and a remote GPU worker (GET /health). Each
probe has a short timeout and the result is kept for `cache_s`, so a load balancer polling
every second costs one round of probes every few seconds, whoever asks.

`python app.py doctor` is the thorough version (writes, reads, public URLs, migrations) for
an operator; this is the cheap one a proxy or orchestrator polls.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
import psycopg
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.ops.doctor import describe_database
from core.settings import Settings
from core.storage import LocalObjectStore, ObjectStore, S3ObjectStore

PROBE_TIMEOUT_S = 2.0
CACHE_S = 2.0
# Modal starts a GPU container for any request, /health included, and keeps it (and its bill)
# warm for its scaledown window: a poll every few seconds would never let it stop.
SCALE_TO_ZERO_HOST_SUFFIXES = (".modal.run",)


@dataclass(frozen=True)
class Probe:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class ReadinessReport:
    probes: tuple[Probe, ...]
    checked_at: float

    @property
    def ready(self) -> bool:
        return all(probe.ok for probe in self.probes)

    @property
    def failing(self) -> list[str]:
        return [probe.name for probe in self.probes if not probe.ok]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": {probe.name: {"ok": probe.ok, "detail": probe.detail} for probe in self.probes},
        }


class Readiness:
    """The probes for `settings` and the app's object store, run at most once per `cache_s` (thread-safe)."""

    def __init__(self, settings: Settings, objects: ObjectStore, timeout_s: float = PROBE_TIMEOUT_S, cache_s: float = CACHE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._objects = objects
        self._timeout_s = min(timeout_s, settings.http_timeout_s)
        self._cache_s = cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last: ReadinessReport | None = None
        self._s3: Any = None

    def check(self) -> ReadinessReport:
        with self._lock:
            if self._last is not None and self._clock() - self._last.checked_at < self._cache_s:
                return self._last
            self._last = ReadinessReport(
                (self._probe_database(), self._probe_storage(), self._probe_worker()), self._clock())
            return self._last

    # --- database ------------------------------------------------------------------------
    def _probe_database(self) -> Probe:
        url = self._settings.database_url
        if url:
            where = describe_database(url)
            try:
                with psycopg.connect(url, connect_timeout=max(1, round(self._timeout_s)), autocommit=True) as conn:
                    conn.execute("SELECT 1")
            except psycopg.Error as exc:
                return Probe("database", False, f"Postgres at {where}: {_first_line(exc)}")
            return Probe("database", True, f"Postgres at {where}")
        path = self._settings.sqlite_path
        try:
            with sqlite3.connect(path, timeout=self._timeout_s) as conn:
                conn.execute("SELECT 1")
        except sqlite3.Error as exc:
            return Probe("database", False, f"SQLite file {path}: {exc}")
        return Probe("database", True, f"SQLite file {path}")

    # --- storage -------------------------------------------------------------------------
    def _probe_storage(self) -> Probe:
        store = self._objects
        if isinstance(store, LocalObjectStore):
            if store.root.is_dir():
                return Probe("storage", True, f"local folder {store.root}")
            return Probe("storage", False, f"local folder {store.root} does not exist")
        if not isinstance(store, S3ObjectStore):
            return Probe("storage", True, f"{type(store).__name__} (not probed)")
        bucket = store.bucket
        try:
            self._s3_client(store).head_bucket(Bucket=bucket)
        except (BotoCoreError, ClientError) as exc:
            return Probe("storage", False, f"bucket {bucket!r}: {_first_line(exc)}")
        return Probe("storage", True, f"bucket {bucket!r}")

    def _s3_client(self, store: S3ObjectStore) -> Any:
        if not self._settings.uses_s3:
            return store.client  # a store built by hand (tests): its own client and timeouts
        if self._s3 is None:
            settings = self._settings
            secret = settings.b2_s3_secret_access_key
            self._s3 = boto3.client(
                "s3",
                endpoint_url=settings.b2_s3_endpoint or None,
                region_name=settings.b2_s3_region or "us-east-1",
                aws_access_key_id=settings.b2_s3_access_key_id,
                aws_secret_access_key=secret.get_secret_value() if secret else None,
                # one try: a probe that retries for long answers after the balancer gave up
                config=Config(connect_timeout=self._timeout_s, read_timeout=self._timeout_s,
                              retries={"max_attempts": 1, "mode": "standard"}),
            )
        return self._s3

    # --- GPU worker ----------------------------------------------------------------------
    def _probe_worker(self) -> Probe:
        endpoint = self._settings.modal_generate_endpoint
        if not endpoint:
            return Probe("worker", True, "in-process generator")
        host = (urlsplit(endpoint).hostname or "").lower()
        if host.endswith(SCALE_TO_ZERO_HOST_SUFFIXES):
            return Probe("worker", True, f"{host} not probed: a request would start a GPU container "
                                         "(python app.py doctor checks it)")
        url = endpoint.rstrip("/") + "/health"
        try:
            response = httpx.get(url, timeout=self._timeout_s)
        except httpx.HTTPError as exc:
            return Probe("worker", False, f"GET {url}: {_first_line(exc) or type(exc).__name__}")
        if not response.is_success:
            return Probe("worker", False, f"GET {url} answered {response.status_code}")
        return Probe("worker", True, f"GET {url} answered {response.status_code}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
