"""The History tab with a completed job whose stored image is damaged: the page loads, that
job shows an unreadable tile, and restoring it shows the tile in place of its design."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core.generators import GenerationOutcome
from core.jobs.service import GenerateCommand
from tests.support.bad_pngs import garbled_png
from tests.support.fake_worker import solid_png
from tests.support.studio_page import StudioPage
from tests.ui.conftest import start_studio

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_history_loads_with_a_damaged_image_and_shows_that_job_as_unreadable(page: Page, tmp_path):
    studio, server = start_studio(tmp_path)
    try:
        service, user = studio.services.generation, studio.settings.local_user
        healthy = service.create_job(user, GenerateCommand(prompt="a healthy fox", style="anime", product="mug"))
        damaged = service.create_job(user, GenerateCommand(prompt="a damaged fox", style="anime", product="mug"))
        for job in (healthy, damaged):
            service.jobs.mark_processing(job.id)
            service.apply_outcome(GenerationOutcome(job_id=job.id, status="completed", png=solid_png(job.width, job.height)))
        stored = service.jobs.get(damaged.id).storage_key
        service.objects.put_png(stored, garbled_png(damaged.width, damaged.height))  # damaged in storage

        ui = StudioPage(page, studio.url).open()
        ui.open_tab("history")
        items = ui.page.locator("#history-gallery .thumbnail-item")
        expect(items).to_have_count(2)
        expect(ui.page.locator("#history-page")).to_contain_text("Page 1")
        expect(ui.page.locator(".toast-body")).to_have_count(0)
        expect(ui.page.locator("#history-gallery img[src*='unreadable-']")).to_have_count(1)
        items.first.click()  # newest first: the damaged one
        ui.click("history-open")
        expect(ui.tab_button("generate")).to_have_attribute("aria-selected", "true")
        expect(ui.prompt).to_have_value("a damaged fox")
        expect(ui.design).to_have_attribute("src", re.compile(f"unreadable-{damaged.id}"))
    finally:
        server.stop()
