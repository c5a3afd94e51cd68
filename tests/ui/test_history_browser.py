"""The History tab in a real browser: a gallery that fills the page, favourites, download,
delete (the card and the image in storage), and canceled or failed jobs folded away."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from core.errors import JobNotFound
from core.generators import GenerationOutcome
from core.jobs import HistoryFilter, Job, JobStatus, NewJob
from core.jobs.service import GenerateCommand
from tests.support.fake_worker import solid_png
from tests.support.servers import wait_until
from tests.support.studio_page import StudioPage
from tests.ui.conftest import RunningStudio

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def seed(studio: RunningStudio, status: JobStatus = JobStatus.COMPLETED, prompt: str | None = None,
         product: str = "mug") -> Job:
    """One of the local user's jobs in `status`, made without the generator."""
    service, user = studio.services.generation, studio.settings.local_user
    job = service.create_job(user, GenerateCommand(prompt=prompt or f"idea {uuid.uuid4().hex[:8]}", style="anime",
                                                   product=product))
    if status is JobStatus.COMPLETED:
        service.apply_outcome(GenerationOutcome(job_id=job.id, status="completed", png=solid_png(job.width, job.height)))
    elif status is JobStatus.FAILED:
        service.jobs.mark_processing(job.id)
        service.jobs.mark_failed(job.id, "worker ran out of memory")
    elif status is JobStatus.CANCELED:
        service.cancel(user, job.id)
    return service.jobs.get(job.id)


def open_history(page: Page, studio: RunningStudio) -> StudioPage:
    ui = StudioPage(page, studio.url).open()
    ui.open_tab("history")
    expect(ui.page.locator("#history-page")).to_contain_text("Page 1")
    return ui


def card(ui: StudioPage, prompt: str) -> Locator:
    return ui.page.locator("#history-gallery .thumbnail-item").filter(has_text=prompt)


def pick(ui: StudioPage, prompt: str) -> None:
    card(ui, prompt).click()
    expect(ui.page.locator("#history-selected")).to_contain_text(prompt)


def test_the_gallery_shows_at_least_two_whole_rows_with_whole_captions_at_1440x900(browser: Browser,
                                                                                    studio: RunningStudio):
    long_prompt = "a lighthouse keeper's cat watching the storm from the lamp room, " * 3
    for number in range(13):
        seed(studio, prompt=f"{long_prompt}number {number}")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        ui = open_history(context.new_page(), studio)
        expect(card(ui, "number 12")).to_be_visible()
        # rows of cards wholly inside the window, as the designer sees it without scrolling
        rows = ui.page.evaluate("""() => {
            const tops = new Set();
            for (const item of document.querySelectorAll('#history-gallery .thumbnail-item')) {
                const box = item.getBoundingClientRect();
                if (box.height > 80 && box.top >= 0 && box.bottom <= window.innerHeight) tops.add(Math.round(box.top));
            }
            return tops.size;
        }""")
        assert rows >= 2, f"{rows} whole row(s) of designs at 1440×900"
        expect(card(ui, "number 12").locator(".caption-label")).to_have_text(
            f"completed · Anime · Mug (11 oz) — {' '.join(long_prompt.split())} number 12")
        ui.screenshot("history-gallery.png")
    finally:
        context.close()


def test_favourites_only_shows_the_starred_designs(page: Page, studio: RunningStudio):
    loved, plain = seed(studio, prompt="a starred koi"), seed(studio, prompt="a plain heron")
    ui = open_history(page, studio)
    pick(ui, "a starred koi")
    ui.click("history-favorite")
    expect(ui.page.locator("#history-favorite")).to_have_text("★ Favourite")
    expect(card(ui, "a starred koi")).to_contain_text("★ completed")
    assert studio.jobs.get(loved.id).favorite and not studio.jobs.get(plain.id).favorite

    ui.page.locator("#history-favorites-only input").check()
    favourites = studio.jobs.history(studio.settings.local_user, HistoryFilter(favorite=True))
    expect(ui.page.locator("#history-gallery .thumbnail-item")).to_have_count(len(favourites))
    expect(card(ui, "a starred koi")).to_have_count(1)
    expect(card(ui, "a plain heron")).to_have_count(0)

    pick(ui, "a starred koi")
    ui.click("history-favorite")  # unstarred: it leaves the favourites
    expect(card(ui, "a starred koi")).to_have_count(0)
    assert not studio.jobs.get(loved.id).favorite


def test_download_gives_the_picked_designs_png(page: Page, studio: RunningStudio):
    job = seed(studio, prompt="a downloadable crane")
    ui = open_history(page, studio)
    pick(ui, "a downloadable crane")
    with ui.page.expect_download() as download:
        ui.click("history-download")
    path = download.value.path()
    assert job.id in download.value.suggested_filename
    assert path is not None and path.read_bytes() == studio.objects.get(job.storage_key)


def test_delete_removes_the_card_and_the_image_in_storage(page: Page, studio: RunningStudio):
    job = seed(studio, prompt="a doomed teapot")
    print_key = studio.services.generation.files.print_file(studio.settings.local_user, job.id).key
    assert studio.objects.exists(job.storage_key) and studio.objects.exists(print_key)
    ui = open_history(page, studio)
    pick(ui, "a doomed teapot")
    ui.click("history-delete")
    ui.click("history-delete-keep")  # second thoughts: nothing happens
    expect(card(ui, "a doomed teapot")).to_have_count(1)
    ui.click("history-delete")
    ui.click("history-delete-confirm")
    expect(card(ui, "a doomed teapot")).to_have_count(0)
    expect(ui.toast("Design deleted")).to_be_visible()
    assert not studio.objects.exists(job.storage_key) and not studio.objects.exists(print_key)
    with pytest.raises(JobNotFound):
        studio.jobs.get(job.id)


def test_a_running_job_is_not_deleted_and_the_page_says_why(page: Page, studio: RunningStudio):
    # processing, as if a worker had it: the recovery loop leaves it alone for TENKAIGEN_JOB_DEADLINE_S
    job = studio.jobs.mark_processing(studio.jobs.create(NewJob(
        user_id=studio.settings.local_user, prompt="a walrus in the works", style="anime", product="mug", width=64,
        height=64)).id)
    ui = open_history(page, studio)
    pick(ui, "a walrus in the works")
    ui.click("history-delete")
    ui.click("history-delete-confirm")
    expect(ui.toast("cancel it before deleting it")).to_be_visible()
    assert studio.jobs.get(job.id).status is JobStatus.PROCESSING


def test_canceled_and_failed_jobs_are_folded_away_until_asked_for(page: Page, studio: RunningStudio):
    seed(studio, JobStatus.CANCELED, prompt="a canceled otter")
    seed(studio, JobStatus.FAILED, prompt="a failed badger")
    seed(studio, prompt="a finished swan")
    ui = open_history(page, studio)
    expect(card(ui, "a finished swan")).to_have_count(1)
    expect(ui.page.locator("#history-page")).to_contain_text("canceled and failed folded away")
    expect(card(ui, "a canceled otter")).to_have_count(0)
    expect(card(ui, "a failed badger")).to_have_count(0)

    ui.page.locator("#history-show-folded input").check()
    expect(card(ui, "a canceled otter")).to_have_count(1)
    expect(card(ui, "a failed badger")).to_have_count(1)
    pick(ui, "a failed badger")
    expect(ui.page.locator("#history-selected")).to_contain_text("worker ran out of memory")

    ui.page.locator("#history-show-folded input").uncheck()
    expect(card(ui, "a failed badger")).to_have_count(0)
    ui.page.locator("#history-status input").click()
    ui.page.get_by_role("option", name="Failed").click()  # asking for failed jobs shows them
    expect(card(ui, "a failed badger")).to_have_count(1)
    expect(card(ui, "a finished swan")).to_have_count(0)
