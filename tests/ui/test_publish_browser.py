"""The studio's Publish section in chromium: a designer picks colours and sizes, sees Printful's
official mockup, publishes, and finds the product link in the studio and in History. Printful is
the loopback stand-in, which fetches the print file from moto's S3 server."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.apps import s3_settings
from tests.support.printful_stub import PrintfulStub
from tests.support.servers import LiveServer
from tests.support.studio_page import StudioPage
from tests.ui.conftest import RunningStudio, start_studio
from tests.ui.test_generate_browser import generate_one

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN, STORE_ID = "pf-browser-token", "777"


@pytest.fixture
def shop_studio(tmp_path, s3_endpoint: str, s3_bucket: str) -> Iterator[tuple[RunningStudio, PrintfulStub]]:
    stub = PrintfulStub(token=TOKEN, store_id=STORE_ID, complete_after_polls=1, print_sizes={71: (1800, 2400)})
    with LiveServer(stub.app()) as printful:
        running, server = start_studio(
            tmp_path, PRINTFUL_API_TOKEN=TOKEN, PRINTFUL_STORE_ID=STORE_ID, PRINTFUL_BASE_URL=printful.url,
            PRINTFUL_MOCKUP_FIRST_CHECK_S=0, **s3_settings(s3_endpoint, s3_bucket),
        )
        yield running, stub
        server.stop()
        stub.release()


def test_a_designer_publishes_from_the_studio_and_sees_the_official_mockup_and_the_product_link(
        page: Page, shop_studio: tuple[RunningStudio, PrintfulStub]):
    studio, stub = shop_studio
    ui = StudioPage(page, studio.url).open()
    ui.edit(ui.prompt, "a cyberpunk samurai with neon lights")
    ui.pick_product("T-shirt")
    ui.settle()
    job = generate_one(ui, studio)

    section = page.locator("#publish")
    expect(section).to_be_visible()
    colors, sizes = page.locator("#publish-colors"), page.locator("#publish-sizes")
    expect(colors.get_by_label("White", exact=True)).to_be_checked()
    expect(sizes.get_by_label("M", exact=True)).to_be_checked()
    colors.get_by_label("Black", exact=True).check()
    expect(page.locator("#publish-price input, #publish-price textarea").first).to_have_value("26.99")
    ui.settle()

    ui.click("official-mockups")
    expect(page.locator("#official-mockup-images img").first).to_have_attribute("src", re.compile(r"gt-71-1"))
    expect(page.locator("#official-mockup-status")).to_contain_text("Official mockups from Printful")
    [task] = stub.tasks.values()
    assert sorted(task.variant_ids) == [4012, 4017]  # White / M and Black / M

    ui.edit(page.locator("#publish-price input, #publish-price textarea").first, "24.00")
    ui.click("publish-button")
    link = page.locator("#product-link")
    expect(link).to_have_attribute("href", re.compile(r"dashboard/sync/update\?id=\d+"))
    [made] = stub.store_products.values()
    assert {v["retail_price"] for v in made["sync_variants"]} == {"24.00"}
    assert all(f["ok"] for f in stub.fetched), stub.fetched
    assert job.id.replace("-", "")[:20] in made["external_id"]

    ui.open_tab("history")
    expect(page.locator("#history-products a")).to_have_attribute("href", re.compile(rf"id={made['id']}"))
    expect(page.locator("#history-gallery")).to_contain_text("in the store")
    ui.screenshot("publish.png")
