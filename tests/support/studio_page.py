"""The studio as a test drives it: a page object over Playwright, with stable elem_id selectors."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.support.servers import wait_until

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output"


class StudioPage:
    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url

    def open(self) -> StudioPage:
        self.page.goto(self.url)
        expect(self.prompt).to_be_editable()
        return self

    # --- the Generate tab -------------------------------------------------------------------
    @property
    def prompt(self) -> Locator:
        return self.page.locator("#prompt textarea")

    def pick_style(self, name: str) -> None:
        self.page.locator("#style").get_by_label(name, exact=True).check()

    def pick_product(self, name: str) -> None:
        self.page.locator("#product").get_by_label(name, exact=True).check()

    def open_advanced(self) -> None:
        seed = self.page.locator("#seed input")
        if not seed.is_visible():
            self.page.locator("#advanced").get_by_text("Advanced", exact=True).click()
        expect(seed).to_be_visible()

    def set_images(self, count: int) -> None:
        self.open_advanced()
        field = self.page.locator("#images input[type=number]")

        def taken() -> bool:
            # a slider still mounting in the just-opened accordion can come back with its
            # first value: set it again until it holds across a page update
            field.fill(str(count))
            field.press("Enter")
            self.settle()
            return field.input_value() == str(count)

        wait_until(taken, timeout_s=20, interval_s=0.2, what=f"the number of images to hold {count}")

    def brief_field(self, name: str) -> Locator:
        return self.page.locator(f"#brief-{name} textarea, #brief-{name} input").first

    def edit(self, field: Locator, text: str) -> None:
        """Fill a field and let the page take the new value in before the next click.

        Gradio hands an input's value to its event payloads on the page's next update; two
        animation frames later it is there (a click straight after a fill can, on a busy
        machine, still send the old value)."""
        field.fill(text)
        self.settle()

    def settle(self) -> None:
        """Wait two animation frames: what the page was updating is done."""
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def click(self, elem_id: str) -> None:
        self.page.locator(f"#{elem_id}").click()

    def status_rows(self, status: str | None = None) -> Locator:
        selector = "#status .tg-row" + (f'[data-status="{status}"]' if status else "")
        return self.page.locator(selector)

    @property
    def design(self) -> Locator:
        return self.page.locator("#result img")

    @property
    def mockup(self) -> Locator:
        return self.page.locator("#mockup img")

    def toast(self, text: str) -> Locator:
        return self.page.locator(".toast-body").filter(has_text=text)

    # --- tabs -------------------------------------------------------------------------------
    def tab_button(self, tab: str) -> Locator:
        return self.page.locator(f"#tab-{tab}-button")

    def open_tab(self, tab: str) -> None:
        self.tab_button(tab).click()
        expect(self.tab_button(tab)).to_have_attribute("aria-selected", "true")

    def figure(self, key: str) -> Locator:
        return self.page.locator(f'[data-figure="{key}"] .tg-value')

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path
