"""Browser fixtures: one headless chromium for the session, a fresh context per test, and
the app under uvicorn on loopback (embedded defaults, or a GPU worker that holds jobs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app import build_services, create_app
from core.jobs import JobStore
from core.services import Services
from core.settings import Settings
from core.storage import ObjectStore
from core.worker_contract.webhooks import generate_webhook_secret
from tests.support.apps import make_settings
from tests.support.fake_worker import FakeWorker
from tests.support.servers import LiveServer, free_port
from tests.support.studio_page import StudioPage

# Gradio starts slowly on a loaded 2-core machine; auto-waiting assertions wait this long
expect.set_options(timeout=20_000)


@dataclass
class RunningStudio:
    url: str
    settings: Settings
    services: Services

    @property
    def jobs(self) -> JobStore:
        return self.services.generation.jobs

    @property
    def objects(self) -> ObjectStore:
        return self.services.generation.objects


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


# one local user makes every job in these tests: the per-user quotas would refuse most of them
NO_QUOTAS = {"TENKAIGEN_QUOTA_PER_MINUTE": 0, "TENKAIGEN_QUOTA_PER_DAY": 0, "TENKAIGEN_QUOTA_IN_FLIGHT": 0}


def start_studio(data_dir: Path, **settings_values: object) -> tuple[RunningStudio, LiveServer]:
    port = free_port()
    settings = make_settings(data_dir, TENKAIGEN_PUBLIC_URL=f"http://127.0.0.1:{port}", **{**NO_QUOTAS, **settings_values})
    services = build_services(settings)
    server = LiveServer(create_app(settings, services), port=port).start()
    return RunningStudio(server.url, settings, services), server


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStudio]:
    """The app on embedded defaults: SQLite, local folder, the draft renderer."""
    running, server = start_studio(tmp_path_factory.mktemp("studio"))
    yield running
    server.stop()


@dataclass
class HeldStudio(RunningStudio):
    worker: FakeWorker


@pytest.fixture(scope="module")
def held_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeldStudio]:
    """The app dispatching to a GPU worker that accepts jobs and never finishes them."""
    secret = generate_webhook_secret()
    worker = FakeWorker(secret=secret, hold=True)
    with LiveServer(worker.app()) as worker_server:
        running, server = start_studio(
            tmp_path_factory.mktemp("held"), MODAL_GENERATE_ENDPOINT=worker_server.url, TENKAIGEN_WEBHOOK_SECRET=secret
        )
        yield HeldStudio(running.url, running.settings, running.services, worker)
        server.stop()


@pytest.fixture
def studio_page(page: Page, studio: RunningStudio) -> StudioPage:
    return StudioPage(page, studio.url).open()
