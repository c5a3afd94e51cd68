"""The studio with a GPU worker that holds every job: cancel a running job from the page, and
stay responsive with 20 jobs in flight from several browser sessions and API clients."""

from __future__ import annotations

import base64

import httpx
import pytest
from gradio_client import Client
from playwright.sync_api import Browser, Page, expect

from core.jobs import Job, JobStatus
from core.ops.stats import window_start
from core.worker_contract.webhooks import WebhookPayload, WebhookProgress, WebhookSigner
from tests.support.fake_worker import solid_png
from tests.support.servers import wait_until
from tests.support.studio_page import StudioPage
from tests.ui.conftest import HeldStudio

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def in_flight(studio: HeldStudio) -> int:
    return studio.jobs.stats(window_start(1)).in_flight


def newest_job(studio: HeldStudio) -> Job:
    return studio.jobs.list_for_user(studio.settings.local_user, limit=1)[0]


def test_a_running_job_is_canceled_from_the_page(page: Page, held_studio: HeldStudio):
    ui = StudioPage(page, held_studio.url).open()
    ui.edit(ui.prompt, "a fox that takes its time")
    ui.click("generate")
    expect(ui.status_rows("processing")).to_have_count(1)
    expect(ui.status_rows("processing")).to_contain_text("Generating")
    job = newest_job(held_studio)
    assert job.status is JobStatus.PROCESSING
    assert any(body["job_id"] == job.id for body in held_studio.worker.received)

    ui.click("cancel")
    expect(ui.status_rows("canceled")).to_have_count(1)
    expect(ui.page.locator("#retry")).to_be_visible()  # a canceled job can be tried again
    ui.screenshot("generate-canceled.png")
    assert held_studio.jobs.get(job.id).status is JobStatus.CANCELED


def post_webhook(studio: HeldStudio, payload: WebhookPayload) -> None:
    """What the GPU worker sends: a signed result or progress report."""
    body, headers = WebhookSigner(studio.settings.webhook_secret.get_secret_value()).signed_body(payload)
    response = httpx.post(f"{studio.url}/api/generate/webhook", content=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text


def test_the_workers_progress_streams_in_place_until_the_design_arrives(page: Page, held_studio: HeldStudio):
    ui = StudioPage(page, held_studio.url).open()
    ui.edit(ui.prompt, "a lantern festival")
    ui.pick_product("Sticker (4×4 in)")
    held_studio.worker.answer = {"queue_depth": 3, "gpu": "starting", "ahead": 2}  # as a cold Modal front says
    try:
        ui.click("generate")
        expect(ui.status_rows("processing")).to_contain_text("Starting a GPU · 2 jobs ahead")
    finally:
        held_studio.worker.answer = {}
    job = newest_job(held_studio)

    post_webhook(held_studio, WebhookPayload(job_id=job.id, status="processing", progress=WebhookProgress(step=0, total=50)))
    expect(ui.status_rows("processing")).to_contain_text("Generating · step 0/50")
    post_webhook(held_studio, WebhookPayload(job_id=job.id, status="processing", progress=WebhookProgress(step=12, total=50)))
    expect(ui.status_rows("processing")).to_contain_text("step 12/50")
    expect(ui.page.locator("#status .tg-bar > div")).to_have_attribute("style", "width:24%")
    post_webhook(held_studio, WebhookPayload(job_id=job.id, status="processing", progress=WebhookProgress(step=50, total=50)))
    expect(ui.status_rows("processing")).to_contain_text("Uploading")

    png = solid_png(job.width, job.height, (20, 160, 90))
    post_webhook(held_studio, WebhookPayload(job_id=job.id, status="completed", seed=job.seed,
                                             image_base64=base64.b64encode(png).decode()))
    expect(ui.status_rows("completed")).to_contain_text("Done")
    expect(ui.design).to_be_visible()
    expect(ui.mockup).to_be_visible()


def test_twenty_jobs_in_flight_from_several_sessions_leave_the_page_responsive(browser: Browser, held_studio: HeldStudio):
    assert in_flight(held_studio) == 0
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(3)]
    clients = [Client(held_studio.url, verbose=False) for _ in range(2)]
    try:
        pages = []
        for number, context in enumerate(contexts):
            ui = StudioPage(context.new_page(), held_studio.url).open()
            ui.edit(ui.prompt, f"a patient owl number {number}")
            ui.set_images(4)
            ui.click("generate")
            pages.append(ui)
        streams = [client.submit(prompt=f"an owl from client {n}", style="anime", product="mug", images=4,
                                 api_name="/generate") for n, client in enumerate(clients)]
        wait_until(lambda: in_flight(held_studio) == 20, timeout_s=60, what="20 jobs in flight")

        # every session's stream runs at once: none waits in Gradio's queue behind another
        for ui in pages:
            expect(ui.status_rows("processing")).to_have_count(4)

        fresh = StudioPage(browser.new_page(), held_studio.url).open()
        fresh.edit(fresh.prompt, "a quick heron")
        fresh.click("parse")
        expect(fresh.brief_field("subject")).to_have_value("quick heron")
        fresh.open_tab("history")
        expect(fresh.page.locator("#history-page")).to_contain_text("Page 1")
        fresh.page.context.close()

        for ui in pages:
            ui.click("cancel")
            expect(ui.status_rows("canceled")).to_have_count(4)
        with httpx.Client(base_url=held_studio.url, timeout=10) as http:
            for job in held_studio.jobs.list_for_user(held_studio.settings.local_user, limit=50):
                if not job.status.is_terminal:
                    assert http.post(f"/api/generate/{job.id}/cancel").status_code == 200
        for stream in streams:
            status, *_ = stream.result(timeout=60)
            assert status.count('data-status="canceled"') == 4
        assert in_flight(held_studio) == 0
    finally:
        for context in contexts:
            context.close()
        for client in clients:
            client.close()
