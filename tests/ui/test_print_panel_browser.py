"""The Print panel as a designer uses it: make the print file of the design on show, read its
checklist, download the print-ready PNG, see the cutout on a light and a dark garment, then
make and download the SVG in a chosen number of colours."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.servers import wait_until
from tests.support.studio_page import StudioPage
from tests.support.svg_raster import SVG_NS
from tests.ui.conftest import RunningStudio

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_print_panel_makes_and_downloads_the_print_file_and_the_svg(studio_page: StudioPage,
                                                                       studio: RunningStudio, tmp_path: Path):
    ui, page = studio_page, studio_page.page
    user = studio.settings.local_user
    before = {j.id for j in studio.jobs.list_for_user(user, limit=50)}
    ui.pick_product("Sticker (4×4 in)")
    ui.edit(ui.prompt, "a cute corgi astronaut floating in space")
    ui.click("generate")
    [job] = wait_until(lambda: [j for j in studio.jobs.list_for_user(user, limit=20)
                                if j.id not in before and j.status.is_terminal] or None, what="the sticker job")
    expect(ui.design).to_have_attribute("src", re.compile(job.id))

    page.locator("#print-panel").get_by_text("Print", exact=True).click()
    ui.click("make-print")
    checklist = page.locator("#print-checklist .tg-checklist[data-failed]")
    expect(checklist).to_contain_text("1200×1200 px at 300 dpi")
    for status in page.locator("#print-checklist .tg-check").evaluate_all("rows => rows.map(r => r.dataset.status)"):
        assert status in {"pass", "fixed", "fail"}
    expect(page.locator("#print-on-light img")).to_be_visible()
    expect(page.locator("#print-on-dark img")).to_be_visible()

    with page.expect_download() as print_download:
        ui.click("print-download")
    # named after the design, the product and the size: the idea's first words, sticker, 1200x1200 at 300 dpi
    assert print_download.value.suggested_filename.endswith("_sticker_1200x1200_300dpi.png")
    png_path = tmp_path / "print.png"
    print_download.value.save_as(png_path)
    with Image.open(png_path) as printed:
        assert printed.size == (1200, 1200) and printed.mode == "RGBA"
        assert round(printed.info["dpi"][0]) == 300

    colours = page.locator("#vector-colors input[type=number]")
    colours.fill("5")
    colours.press("Enter")
    ui.settle()
    ui.click("make-svg")
    expect(page.locator("#svg-preview img")).to_be_visible()
    with page.expect_download() as svg_download:
        ui.click("svg-download")
    assert svg_download.value.suggested_filename == f"tenkaigen-sticker-{job.id}-5-colours.svg"
    svg_path = tmp_path / "design.svg"
    svg_download.value.save_as(svg_path)
    root = ET.fromstring(svg_path.read_bytes())
    assert root.attrib["viewBox"] == "0 0 1328 1328" and root.attrib["width"] == "4.000in"
    paths = list(root.iter(f"{SVG_NS}path"))
    assert paths and len({p.attrib["fill"] for p in paths}) <= 5
