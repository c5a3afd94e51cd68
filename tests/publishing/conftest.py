"""The app publishing to a loopback Printful (tests/support/printful_stub.py) with its files in
moto's S3 server, which the stand-in fetches them from, as Printful does. Time is a fake clock
that the app's publishing parts and the stand-in's rate limit share; the mockup queue is driven
by hand (`run_once`), so no test waits."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import build_publishing, build_services, create_app
from core.jobs import JobStatus
from core.services import Services
from core.settings import Settings
from tests.support.apps import make_settings, s3_settings
from tests.support.printful_stub import PrintfulStub
from tests.support.servers import LiveServer, wait_until

TOKEN = "pf-store-token"
STORE_ID = "12345"
SHIRT_PRINT_SIZE = (1800, 2400)  # Printful's front print file for product 71 (the stand-in's printfiles)
NO_QUOTAS = {"TENKAIGEN_QUOTA_PER_MINUTE": 0, "TENKAIGEN_QUOTA_PER_DAY": 0, "TENKAIGEN_QUOTA_IN_FLIGHT": 0}


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def printful(clock: FakeClock) -> Iterator[tuple[PrintfulStub, str]]:
    stub = PrintfulStub(token=TOKEN, store_id=STORE_ID, complete_after_polls=2, clock=clock,
                        print_sizes={71: SHIRT_PRINT_SIZE})
    with LiveServer(stub.app()) as server:
        yield stub, server.url
        stub.release()


def on_clock(services: Services, clock: Callable[[], float]) -> Services:
    """The services' publishing parts rebuilt on `clock` (the Printful client's lockouts too)."""
    if services.publishing.printful is not None:
        services.publishing.printful.close()
    services.publishing, services.mockup_queue = build_publishing(
        services.settings, services.generation, services.publishing.store, clock=clock)
    return services


@dataclass
class Shop:
    """One app process (its own Services) against the shared database, bucket and Printful."""

    services: Services
    client: TestClient
    user: str

    def completed_job(self, prompt: str = "a cyberpunk samurai with neon lights", product: str = "t-shirt") -> str:
        answer = self.client.post("/api/generate", json={"prompt": prompt, "style": "anime", "product": product})
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
        jobs = self.services.generation.jobs
        wait_until(lambda: jobs.get(job_id).status is JobStatus.COMPLETED, what="the draft design")
        return job_id

    def run_queue(self) -> Any:
        assert self.services.mockup_queue is not None
        return self.services.mockup_queue.run_once()


@dataclass
class ShopWorld:
    settings: Settings
    clock: FakeClock
    stub: PrintfulStub
    shops: list[Shop] = field(default_factory=list)

    def open_shop(self, **overrides: Any) -> Shop:
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        services = on_clock(build_services(settings), self.clock)
        # no `with`: the lifespan's loops stay off, the tests drive the queue themselves
        shop = Shop(services, TestClient(create_app(settings, services)), settings.local_user)
        self.shops.append(shop)
        return shop

    def close(self) -> None:
        for shop in self.shops:
            shop.services.close()


def shop_settings(data_dir: Path, printful_url: str, s3_endpoint: str, bucket: str, **values: Any) -> Settings:
    return make_settings(
        data_dir, PRINTFUL_API_TOKEN=TOKEN, PRINTFUL_STORE_ID=STORE_ID, PRINTFUL_BASE_URL=printful_url,
        PRINTFUL_MOCKUP_FIRST_CHECK_S=10, **s3_settings(s3_endpoint, bucket), **NO_QUOTAS, **values,
    )


@pytest.fixture
def world(tmp_path: Path, printful, s3_endpoint: str, s3_bucket: str, clock: FakeClock) -> Iterator[ShopWorld]:
    stub, url = printful
    made = ShopWorld(shop_settings(tmp_path, url, s3_endpoint, s3_bucket), clock, stub)
    yield made
    made.close()


def unique_prompt() -> str:
    return f"a lighthouse keeper's cat number {uuid.uuid4().hex[:6]}"
