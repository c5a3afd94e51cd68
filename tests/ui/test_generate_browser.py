"""The Generate tab as a designer keeps it open: a pasted, restored or example idea generates
itself (never the brief of the idea before), the form fits the first screen, the keyboard
reaches Generate, and a batch is compared in a grid."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from core.jobs import Job
from tests.support.servers import wait_until
from tests.support.studio_page import StudioPage
from tests.ui.conftest import RunningStudio

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OWL, WHALE = "an owl wearing glasses", "a humpback whale breaching at sunset"


def open_at(browser: Browser, studio: RunningStudio, width: int, height: int) -> StudioPage:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=studio.url)
    return StudioPage(context.new_page(), studio.url).open()


@pytest.fixture
def desk(browser: Browser, studio: RunningStudio):
    ui = open_at(browser, studio, 1440, 900)
    yield ui
    ui.page.context.close()


def paste_over(ui: StudioPage, text: str) -> None:
    """What a designer does: select the idea and paste another over it with Ctrl+V."""
    ui.page.evaluate("(text) => navigator.clipboard.writeText(text)", text)
    ui.prompt.click()
    ui.prompt.press("Control+A")
    ui.prompt.press("Control+V")
    expect(ui.prompt).to_have_value(text)
    ui.settle()


def new_jobs_after(studio: RunningStudio, before: set[str], count: int = 1) -> list[Job]:
    jobs, user = studio.jobs, studio.settings.local_user

    def finished() -> list[Job] | None:
        made = [j for j in jobs.list_for_user(user, limit=20) if j.id not in before]
        return made if len(made) >= count and all(j.status.is_terminal for j in made) else None

    return wait_until(finished, what=f"{count} new finished job(s)")


def known(studio: RunningStudio) -> set[str]:
    return {j.id for j in studio.jobs.list_for_user(studio.settings.local_user, limit=50)}


def generate_one(ui: StudioPage, studio: RunningStudio, start=None) -> Job:
    before = known(studio)
    (start or (lambda: ui.click("generate")))()
    [job] = new_jobs_after(studio, before)
    expect(ui.design).to_have_attribute("src", re.compile(job.id))
    return job


def test_a_pasted_idea_after_parse_generates_the_new_idea(desk: StudioPage, studio: RunningStudio):
    ui = desk
    ui.edit(ui.prompt, OWL)
    ui.click("parse")
    expect(ui.brief_field("prompt")).to_have_value(re.compile("owl"))
    paste_over(ui, WHALE)
    job = generate_one(ui, studio)
    assert job.prompt == WHALE
    assert "whale" in job.parsed_prompt["prompt"] and "owl" not in job.parsed_prompt["prompt"], job.parsed_prompt


def test_a_restored_job_then_a_pasted_idea_generates_the_new_idea(desk: StudioPage, studio: RunningStudio):
    ui = desk
    ui.edit(ui.prompt, OWL)
    generate_one(ui, studio)
    ui.open_tab("history")
    ui.page.locator("#history-gallery .thumbnail-item").first.click()
    ui.click("history-open")
    expect(ui.tab_button("generate")).to_have_attribute("aria-selected", "true")
    expect(ui.brief_field("prompt")).to_have_value(re.compile("owl"))
    paste_over(ui, WHALE)
    job = generate_one(ui, studio)
    assert "whale" in job.parsed_prompt["prompt"] and "owl" not in job.parsed_prompt["prompt"], job.parsed_prompt


def test_an_example_after_parse_generates_the_example(desk: StudioPage, studio: RunningStudio):
    ui = desk
    ui.edit(ui.prompt, OWL)
    ui.click("parse")
    expect(ui.brief_field("prompt")).to_have_value(re.compile("owl"))
    ui.page.locator("#examples").get_by_text("Moon cat · line art · mug").click()
    expect(ui.prompt).to_have_value("a cat sleeping on the crescent moon")
    job = generate_one(ui, studio)
    assert job.prompt == "a cat sleeping on the crescent moon" and job.product == "mug"
    assert "cat" in job.parsed_prompt["prompt"] and "owl" not in job.parsed_prompt["prompt"], job.parsed_prompt


def test_idea_style_product_and_generate_fit_the_first_screen(desk: StudioPage, browser: Browser,
                                                              studio: RunningStudio):
    for selector in ("#prompt", "#style", "#product", "#generate"):
        box = desk.page.locator(selector).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 900, (selector, box)
    phone = open_at(browser, studio, 390, 844)
    try:
        box = phone.page.locator("#generate").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 1.5 * 844, box
    finally:
        phone.page.context.close()


def test_generate_waits_for_an_idea_and_ctrl_enter_in_the_idea_starts_a_job(desk: StudioPage, studio: RunningStudio):
    ui = desk
    expect(ui.page.locator("#generate")).to_be_disabled()
    ui.edit(ui.prompt, "   ")
    expect(ui.page.locator("#generate")).to_be_disabled()
    ui.edit(ui.prompt, "a kite over the dunes")
    expect(ui.page.locator("#idea-note .tg-count")).to_have_text("21 / 1000 characters")
    job = generate_one(ui, studio, start=lambda: ui.prompt.press("Control+Enter"))
    assert job.prompt == "a kite over the dunes"
    expect(ui.status_rows("completed")).to_contain_text(f"seed {job.seed}")


def test_a_refused_idea_says_why_under_the_idea_box(desk: StudioPage):
    ui = desk
    ui.edit(ui.prompt, "mickey mouse surfing")
    ui.click("generate")
    expect(ui.page.locator("#idea-note .tg-field-error")).to_contain_text("Mickey Mouse", ignore_case=True)
    expect(ui.page.locator(".toast-body").filter(has_text="Traceback")).to_have_count(0)
    ui.edit(ui.prompt, "a surfing mouse")
    expect(ui.page.locator("#idea-note .tg-field-error")).to_have_count(0)


def test_the_keyboard_reaches_generate_from_the_idea_in_at_most_eight_tabs(desk: StudioPage):
    ui = desk
    ui.edit(ui.prompt, "a paper boat")
    expect(ui.page.locator("#generate")).to_be_enabled()
    ui.prompt.focus()
    presses = 0
    while presses < 8:
        ui.page.keyboard.press("Tab")
        presses += 1
        if ui.page.evaluate("() => document.activeElement?.id") == "generate":
            break
    assert ui.page.evaluate("() => document.activeElement?.id") == "generate", f"not reached in {presses} presses"
    # a picker is one stop whose arrows move the choice
    ui.prompt.focus()
    ui.page.keyboard.press("Tab")
    ui.page.keyboard.press("ArrowRight")
    expect(ui.page.locator("#style").get_by_label("Watercolor", exact=True)).to_be_checked()


def test_a_batch_of_four_is_a_grid_of_wide_tiles_captioned_with_seeds_and_a_variation_joins_it(
        desk: StudioPage, studio: RunningStudio):
    ui = desk
    ui.edit(ui.prompt, "a lighthouse in a storm")
    ui.set_images(4)
    before = known(studio)
    ui.click("generate")
    made = new_jobs_after(studio, before, count=4)
    tiles = ui.page.locator("#batch .thumbnail-item")
    expect(tiles).to_have_count(4)
    expect(ui.page.locator("#batch img")).to_have_count(4)
    for index in range(4):
        box = tiles.nth(index).bounding_box()
        assert box is not None and box["width"] >= 250, box
    expect(ui.status_rows("completed")).to_have_count(4)
    for job in made:
        expect(ui.page.locator("#batch")).to_contain_text(f"seed {job.seed}")
    expect(ui.page.locator("#batch")).not_to_contain_text("processing")
    ui.screenshot("generate-batch.png")

    picked_seed = int(re.search(r"seed (\d+)", tiles.nth(2).inner_text()).group(1))
    picked = next(j for j in made if j.seed == picked_seed)
    tiles.nth(2).click()  # the picked design becomes the one on show, and the one varied
    expect(ui.design).to_have_attribute("src", re.compile(picked.id))
    expect(ui.page.locator("#variation")).to_be_visible()
    before = known(studio)
    ui.click("variation")
    [variation] = new_jobs_after(studio, before)
    assert variation.parsed_prompt == picked.parsed_prompt
    expect(tiles).to_have_count(5)  # beside the batch, not instead of it
    expect(ui.page.locator("#batch")).to_contain_text(f"seed {variation.seed}")
