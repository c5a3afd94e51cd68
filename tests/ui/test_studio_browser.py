"""The studio in a real browser: generate with an edited brief, history restore, admin figures,
readable errors, and the admin tab kept from non-admins."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from core.auth import SqliteAccountStore
from core.jobs import Job, JobStatus, NewJob
from core.ops.stats import window_start
from tests.support.jobs import KNOWN_JOBS, JobSeeder, Seed
from tests.support.servers import wait_until
from tests.support.studio_page import StudioPage
from tests.ui.conftest import RunningStudio, start_studio
from ui.history_handlers import PAGE_SIZE

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def generate_and_wait(ui: StudioPage, studio: RunningStudio, button: str = "generate") -> Job:
    """Click a button that starts a job; the new job once the page shows it done."""
    jobs, user = studio.jobs, studio.settings.local_user
    before = {j.id for j in jobs.list_for_user(user, limit=50)}
    ui.click(button)
    new = wait_until(lambda: next((j for j in jobs.list_for_user(user, limit=5) if j.id not in before), None),
                     what="the new job")
    expect(ui.design).to_have_attribute("src", re.compile(new.id))  # the design file is named after its job
    expect(ui.status_rows("completed")).to_have_count(1)
    return jobs.get(new.id)


def test_a_designer_parses_edits_generates_and_sees_the_design_on_the_product(studio_page: StudioPage, studio: RunningStudio):
    ui = studio_page
    ui.edit(ui.prompt, "a cyberpunk samurai with neon lights")
    ui.pick_style("Cyberpunk neon")
    ui.pick_product("Mug (11 oz)")
    # the mug's 9x3.5 in wrap, and the size its design is generated at to match it
    expect(ui.page.locator("#product-info")).to_contain_text("Aspect 18:7")
    expect(ui.page.locator("#product-info")).to_contain_text("generated at 2048×800 px")
    ui.click("parse")
    final_prompt = ui.brief_field("prompt")
    expect(final_prompt).to_have_value(re.compile("samurai"))
    expect(ui.brief_field("subject")).to_have_value("samurai")
    ui.edit(final_prompt, "samurai emblem, glowing neon, print-ready")
    job = generate_and_wait(ui, studio)
    expect(ui.mockup).to_be_visible()
    expect(ui.page.locator("#download")).to_be_visible()
    expect(ui.page.locator("#variation")).to_be_visible()
    ui.screenshot("generate-tab.png")
    assert job.status is JobStatus.COMPLETED and job.product == "mug" and job.style == "cyberpunk-neon"
    assert job.parsed_prompt["prompt"] == "samurai emblem, glowing neon, print-ready", job.parsed_prompt


def test_a_variation_makes_a_new_job_from_the_same_brief(studio_page: StudioPage, studio: RunningStudio):
    ui = studio_page
    ui.edit(ui.prompt, "a red fox in the snow")
    first = generate_and_wait(ui, studio)
    expect(ui.page.locator("#variation")).to_be_visible()
    variation = generate_and_wait(ui, studio, button="variation")
    assert variation.parsed_prompt == first.parsed_prompt and variation.seed != first.seed


def test_an_example_fills_prompt_style_and_product(studio_page: StudioPage):
    ui = studio_page
    ui.page.locator("#examples").get_by_text("Whale at dawn · watercolor · poster").click()
    expect(ui.prompt).to_have_value("a whale swimming through clouds at dawn, pastel colors")
    expect(ui.page.locator("#style").get_by_label("Watercolor", exact=True)).to_be_checked()
    expect(ui.page.locator("#product").get_by_label("Poster (18×24 in)", exact=True)).to_be_checked()


def test_an_example_after_parse_clears_the_parsed_brief(studio_page: StudioPage):
    ui = studio_page
    ui.edit(ui.prompt, "a red fox")
    ui.click("parse")
    expect(ui.brief_field("subject")).to_have_value("fox")
    ui.page.locator("#examples").get_by_text("Moon cat · line art · mug").click()
    expect(ui.prompt).to_have_value("a cat sleeping on the crescent moon")
    expect(ui.brief_field("subject")).to_have_value("")
    expect(ui.brief_field("prompt")).to_have_value("")


def test_an_empty_prompt_gets_a_readable_message_not_a_trace(studio_page: StudioPage):
    # Generate waits for an idea; an over-long one is refused with a message, toast and inline
    expect(studio_page.page.locator("#generate")).to_be_disabled()
    studio_page.edit(studio_page.prompt, "x" * 1001)
    expect(studio_page.page.locator("#idea-note .tg-count")).to_have_text("1001 / 1000 characters")
    studio_page.click("generate")
    expect(studio_page.toast("prompt is too long")).to_be_visible()
    expect(studio_page.page.locator("#idea-note .tg-field-error")).to_contain_text("prompt is too long")
    expect(studio_page.page.locator(".toast-body").filter(has_text="Traceback")).to_have_count(0)


def test_history_lists_the_users_jobs_and_restores_one(studio_page: StudioPage, studio: RunningStudio):
    ui = studio_page
    made = []
    for prompt, product in (("a lighthouse at dusk", "Poster (18×24 in)"), ("a koi pond, ukiyo-e", "Tote bag")):
        ui.edit(ui.prompt, prompt)
        ui.pick_product(product)
        made.append(generate_and_wait(ui, studio))
    older = made[0]

    ui.open_tab("history")
    items = ui.page.locator("#history-gallery button.thumbnail-item, #history-gallery .thumbnail-item")
    expect(items.first).to_be_visible()
    expect(ui.page.locator("#history-page")).to_contain_text("Page 1")
    ui.screenshot("history-tab.png")
    items.nth(1).click()  # newest first: the lighthouse is second
    ui.click("history-open")

    expect(ui.tab_button("generate")).to_have_attribute("aria-selected", "true")
    expect(ui.prompt).to_have_value("a lighthouse at dusk")
    expect(ui.page.locator("#product").get_by_label("Poster (18×24 in)", exact=True)).to_be_checked()
    expect(ui.brief_field("prompt")).to_have_value(older.parsed_prompt["prompt"])
    expect(ui.design).to_be_visible()
    expect(ui.mockup).to_be_visible()


def test_history_pages_through_older_jobs(studio_page: StudioPage, studio: RunningStudio):
    jobs, user = studio.jobs, studio.settings.local_user
    for number in range(PAGE_SIZE + 1):
        job = jobs.create(NewJob(user_id=user, prompt=f"an old idea {number}", style="anime", product="mug",
                                 width=1664, height=928))
        jobs.mark_canceled(job.id)
    total = len(jobs.list_for_user(user, limit=1000))
    ui = studio_page
    ui.open_tab("history")
    ui.page.locator("#history-show-folded input").check()  # canceled jobs are folded away by default
    items = ui.page.locator("#history-gallery .thumbnail-item")
    expect(items).to_have_count(PAGE_SIZE)
    expect(ui.page.locator("#history-previous")).to_be_disabled()
    ui.click("history-next")
    expect(ui.page.locator("#history-page")).to_contain_text("Page 2")
    expect(items).to_have_count(min(PAGE_SIZE, total - PAGE_SIZE))
    expect(ui.page.locator("#history-gallery")).to_contain_text("canceled · Anime · Mug (11 oz) — an old idea 0")
    ui.click("history-previous")
    expect(ui.page.locator("#history-page")).to_contain_text("Page 1")


def test_the_admin_tab_totals_match_the_database(page: Page, studio: RunningStudio):
    seeder = JobSeeder(studio.jobs, sqlite_path=studio.settings.sqlite_path)
    for seed in KNOWN_JOBS:
        seeder.add(seed)
    seeder.add(Seed(JobStatus.COMPLETED, day=-12, product="canvas", ms=2500))  # in 30 days, not in 7
    jobs = studio.jobs
    ui = StudioPage(page, studio.url).open()
    ui.open_tab("admin")
    week = jobs.stats(window_start(7))
    expect(ui.figure("total")).to_have_text(str(week.total))

    ui.page.locator("#admin-window").get_by_label("30 d", exact=True).check()
    month = jobs.stats(window_start(30))
    assert month.total > week.total
    expect(ui.figure("total")).to_have_text(str(month.total))
    expect(ui.figure("completed")).to_have_text(str(month.completed))
    expect(ui.figure("failed")).to_have_text(str(month.failed))
    expect(ui.figure("in-flight")).to_have_text(str(month.in_flight))
    expect(ui.figure("objects")).to_have_text(str(studio.objects.usage().objects))
    expect(ui.page.locator("#admin-failures")).to_contain_text("worker timed out")
    expect(ui.page.locator("#admin-no-failures")).to_be_hidden()
    expect(ui.page.locator("#admin-per-day-note")).to_contain_text("canceled or in flight")
    # the chart has redrawn for 30 days once its first day is on the axis
    first_day = month.jobs_per_day[0].day.isoformat()
    expect(ui.page.locator("#admin-per-day")).to_contain_text(first_day)
    ui.screenshot("admin-tab.png")


def test_what_users_and_workers_wrote_is_shown_as_text_never_run(page: Page, studio: RunningStudio):
    hostile = "<img src=x onerror=\"window.__pwned=1\">"
    JobSeeder(studio.jobs, sqlite_path=studio.settings.sqlite_path).add(
        Seed(JobStatus.FAILED, day=6, error=hostile))
    ui = StudioPage(page, studio.url).open()
    ui.open_tab("admin")
    expect(ui.page.locator("#admin-failures")).to_contain_text(hostile)
    ui.open_tab("generate")
    ui.edit(ui.prompt, hostile)
    ui.click("generate")
    expect(ui.status_rows("completed")).to_have_count(1)
    ui.open_tab("history")
    expect(ui.page.locator("#history-gallery")).to_contain_text("<img src=x")
    assert ui.page.evaluate("window.__pwned") is None


def test_the_admin_tab_shows_only_for_accounts_with_the_admin_role(browser: Browser, tmp_path):
    accounts = SqliteAccountStore(tmp_path / "tenkaigen.sqlite3")
    accounts.add("alice", "alice-pass-1")
    accounts.add("root", "root-pass-1", is_admin=True)
    accounts.close()
    running, server = start_studio(tmp_path)  # an account exists: auto mode signs users in
    try:
        for name, password, is_admin in (("alice", "alice-pass-1", False), ("root", "root-pass-1", True)):
            context = browser.new_context()
            page = context.new_page()
            page.goto(running.url)
            page.get_by_label("username").fill(name)
            page.get_by_label("password").fill(password)
            page.get_by_role("button", name="Login").click()
            ui = StudioPage(page, running.url)
            ui.edit(ui.prompt, "a fox")
            ui.click("parse")  # a round trip after the page's load events
            expect(ui.brief_field("subject")).to_have_value("fox")
            expect(ui.tab_button("admin")).to_have_count(1 if is_admin else 0)
            context.close()
    finally:
        server.stop()
