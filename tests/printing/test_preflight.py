"""Preflight: every product's print file from a good design passes the print shop's checks,
fixes are made and named, bad designs fail with advice, and the file says how it was made."""

from __future__ import annotations

import io
import math
import struct

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageCms, ImageDraw

from app import create_app
from core.catalog import Catalog, Product, load_catalog
from core.generators.draft_art import render_draft
from core.imaging.colour import hex_rgb
from core.imaging.png_text import generation_text
from core.parsing import LocalPromptParser
from core.printing.preflight import MIN_ELEMENT_PX, PreflightCheck, preflight, tiny_islands
from core.printing.printfiles import PREFLIGHT_CHUNK, PrintFile, render_print_file
from core.printing.stored import download_name
from core.storage import image_key
from tests.support.apps import make_settings
from tests.printing.designs import completed_draft
from tests.support.png_files import opened, png_chunks

IDEA = "A cyberpunk samurai with neon lights"
CATALOG = load_catalog()


def draft_design(catalog: Catalog, product: Product, style: str = "anime", seed: int = 1) -> bytes:
    """What the draft renderer makes for this product: a good design, made for it."""
    brief = LocalPromptParser(catalog).parse(IDEA, style, product.id)
    return render_draft(brief, catalog.style(style).palette, brief.width, brief.height, seed,
                        base_color=hex_rgb(product.base_color))


def chunks(png: bytes) -> dict[bytes, bytes]:
    """Each chunk type's first data, straight from the file (CRCs checked)."""
    found: dict[bytes, bytes] = {}
    for kind, data in png_chunks(png):
        found.setdefault(kind, data)
    return found


def statuses(checks: list[PreflightCheck]) -> dict[str, str]:
    return {check.check: check.status for check in checks}


def on_white_png(size: tuple[int, int], ink: tuple[int, int, int], speck: bool = False, reach_edge: bool = False) -> bytes:
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    w, h = size
    box = (0, h // 4, w - 1, 3 * h // 4) if reach_edge else (w // 4, h // 4, 3 * w // 4, 3 * h // 4)
    draw.ellipse(box, fill=ink)
    if speck:
        draw.rectangle((20, 20, 25, 25), fill=ink)  # a 6 px speck, far from the subject
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --- every product, from a good design --------------------------------------------------------
@pytest.fixture(scope="module")
def rendered() -> dict[str, PrintFile]:
    """Every product's print file from its anime draft."""
    return {pid: render_print_file(draft_design(CATALOG, p), p) for pid, p in CATALOG.products.items()}


@pytest.fixture(scope="module")
def print_files(rendered) -> dict[str, bytes]:
    return {pid: print_file.png for pid, print_file in rendered.items()}


def test_every_products_draft_print_file_passes_its_own_preflight(rendered):
    for product_id, print_file in rendered.items():
        failed = [c for c in print_file.preflight if c.status == "fail"]
        assert not failed, (product_id, failed)
        assert [c.check for c in print_file.preflight] == [
            "format", "colour", "dpi", "resolution", "dtg-alpha", "tiny", "edge", "contrast", "file"]


@pytest.mark.parametrize("style", ["line-art", "sticker", "cyberpunk-neon"])
def test_drafts_cut_out_for_garments_and_stickers_pass_in_every_look(catalog: Catalog, style: str):
    # line art (an outline: its inside must not stay background-coloured), the sticker's
    # die-cut border (must stay inside the cut margin), a dark neon look (visible on a dark hoodie)
    for product in catalog.products.values():
        if product.transparent_background:
            failed = [c for c in render_print_file(draft_design(catalog, product, style), product).preflight
                      if c.status == "fail"]
            assert not failed, (product.id, failed)


def test_the_print_file_keeps_the_generation_images_aspect(print_files):
    for product in CATALOG.products.values():
        gw, gh = product.generation_size
        image = opened(print_files[product.id])
        assert image.size == product.print_size_px, product.id
        assert abs(math.log((image.width / image.height) / (gw / gh))) < 0.01, product.id


def test_a_garment_print_file_has_no_semi_transparent_pixel(print_files):
    for product in CATALOG.products.values():
        if not product.dtg:
            continue
        alpha = np.asarray(opened(print_files[product.id]).getchannel("A"))
        assert not np.any((alpha > 0) & (alpha < 255)), product.id
        assert np.any(alpha == 0) and np.any(alpha == 255), product.id


def test_the_dpi_and_the_srgb_profile_are_in_the_png(print_files):
    for product in CATALOG.products.values():
        found = chunks(print_files[product.id])
        assert struct.unpack(">IIB", found[b"pHYs"]) == (round(product.dpi / 0.0254),) * 2 + (1,), product.id
        profile = ImageCms.ImageCmsProfile(io.BytesIO(opened(print_files[product.id]).info["icc_profile"]))
        assert "sRGB" in ImageCms.getProfileDescription(profile), product.id
        assert b"iCCP" in found, product.id


def test_fixes_say_what_they_did(rendered):
    checks = {c.check: c for c in rendered["t-shirt"].preflight}
    assert checks["resolution"].status == "fixed" and "upscaled (Lanczos) to 1800x2400 px = 150 DPI" in checks["resolution"].detail
    assert checks["dtg-alpha"].status == "fixed" and "white underbase" in checks["dtg-alpha"].detail
    assert checks["colour"].status == "fixed" and "IEC 61966-2.1" in checks["colour"].detail
    assert checks["dpi"].status == "fixed" and checks["file"].status == "pass"


# --- bad designs ------------------------------------------------------------------------------
def test_a_light_design_on_a_white_t_shirt_fails_the_contrast_check_with_advice(catalog: Catalog):
    shirt = catalog.product("t-shirt")
    print_file = render_print_file(on_white_png(shirt.generation_size, (255, 238, 160)), shirt)  # pale yellow
    contrast = next(c for c in print_file.preflight if c.check == "contrast")
    assert contrast.status == "fail"
    assert "light design on a light product" in contrast.detail and "dark colours" in contrast.detail
    assert print_file.failed and opened(print_file.png).size == (1800, 2400)  # made anyway: the designer decides


def test_a_dark_design_on_the_white_t_shirt_passes_the_contrast_check(catalog: Catalog):
    shirt = catalog.product("t-shirt")
    checks = statuses(render_print_file(on_white_png(shirt.generation_size, (30, 30, 60)), shirt).preflight)
    assert checks["contrast"] == "pass"


def test_specks_under_10_px_are_removed(catalog: Catalog):
    shirt = catalog.product("t-shirt")
    print_file = render_print_file(on_white_png(shirt.print_size_px, (30, 30, 60), speck=True), shirt)
    tiny = next(c for c in print_file.preflight if c.check == "tiny")
    assert tiny.status == "fixed" and "removed 1 element" in tiny.detail
    alpha = np.asarray(opened(print_file.png).getchannel("A"))
    assert tiny_islands(alpha > 0, MIN_ELEMENT_PX)[0] == 0
    assert alpha[alpha.shape[0] // 2, alpha.shape[1] // 2] == 255  # the subject stays


def test_the_island_finder_keeps_thin_long_lines_and_drops_small_blobs():
    mask = np.zeros((40, 40), dtype=bool)
    mask[5:8, 5:8] = True  # 3x3: tiny
    mask[30:39, 30:39] = True  # 9x9: tiny
    mask[20:22, 0:30] = True  # 2 px thick but 30 long: an element
    mask[10, 10:20] = True  # exactly 10 long: an element
    mask[0:5, 30] = mask[0:5, 33] = True
    mask[4, 30:34] = True  # a U, joined at its foot: one 4x5 tiny island
    count, pixels = tiny_islands(mask, 10)
    assert count == 3 and pixels.sum() == 9 + 81 + 12
    assert not pixels[20].any() and not pixels[10].any()


def test_a_sticker_design_reaching_the_cut_line_fails_the_edge_check(catalog: Catalog):
    sticker = catalog.product("sticker")
    checks = render_print_file(on_white_png(sticker.generation_size, (30, 30, 60), reach_edge=True), sticker).preflight
    edge = next(c for c in checks if c.check == "edge")
    assert edge.status == "fail" and "0.125 in of the edge" in edge.detail and "space around it" in edge.detail


def test_another_colour_profile_is_converted_to_srgb(catalog: Catalog):
    poster = catalog.product("poster")
    image = Image.new("RGB", poster.print_size_px, (120, 60, 200))
    image.info["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB", colorTemp=9300)).tobytes()
    fixed, checks = preflight(image, poster)
    assert statuses(checks)["colour"] in ("pass", "fixed")
    assert "sRGB" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(fixed.info["icc_profile"])))


def test_a_palette_image_is_converted_and_the_resolution_check_passes_at_print_size(catalog: Catalog):
    poster = catalog.product("poster")
    image = Image.new("RGB", poster.print_size_px, (120, 60, 200)).convert("P")
    fixed, checks = preflight(image, poster)
    assert fixed.mode == "RGB" and statuses(checks)["format"] == "fixed" and statuses(checks)["resolution"] == "pass"


# --- what the file says about itself ------------------------------------------------------------
def test_the_generation_record_is_in_the_text_chunks():
    record = generation_text("a fox, anime", "text, blurry", 7, 50, "Qwen/Qwen-Image", "abc123")
    png = render_print_file(on_white_png((160, 208), (30, 30, 60)), CATALOG.product("t-shirt"), text=record).png
    text = opened(png).text
    assert {k: text[k] for k in record} == record == {
        "prompt": "a fox, anime", "negative_prompt": "text, blurry", "seed": "7", "steps": "50",
        "model": "Qwen/Qwen-Image", "revision": "abc123"}
    assert PREFLIGHT_CHUNK in text and text["tenkaigen:made-by"] == "local: flood-fill cutout, Lanczos upscale"


def test_the_download_name_says_design_product_size_and_dpi():
    assert download_name(IDEA, "t-shirt", 1800, 2400, 150) == "cyberpunk-samurai-with-neon_t-shirt_1800x2400_150dpi.png"
    assert download_name("Ōkami: the ¡wolf!", "mug", 2700, 1050, 300) == "okami-wolf_mug_2700x1050_300dpi.png"
    assert download_name("???", "sticker", 1200, 1200, 300) == "design_sticker_1200x1200_300dpi.png"


def test_the_print_file_answer_carries_the_checklist_made_by_and_download_name(client):
    job_id = completed_draft(client, IDEA, "anime", "t-shirt", seed=5)
    body = client.post(f"/api/generate/{job_id}/print-file").json()
    assert body["preflight_passed"] is True
    assert [c["check"] for c in body["preflight"]][:4] == ["format", "colour", "dpi", "resolution"]
    assert all(set(c) == {"check", "status", "detail"} and c["status"] in ("pass", "fixed") for c in body["preflight"])
    assert body["made_by"] == "local: flood-fill cutout, Lanczos upscale"
    assert body["download_name"] == "cyberpunk-samurai-with-neon_t-shirt_1800x2400_150dpi.png"
    served = opened(client.get(body["print_file_url"]).content)
    assert served.text["seed"] == "5" and served.text["model"] == "draft-renderer"
    assert served.text["prompt"].startswith("cyberpunk samurai") and "text" in served.text["negative_prompt"]


def test_the_draft_and_the_print_file_carry_no_generation_record_when_it_is_off(tmp_path):
    with TestClient(create_app(make_settings(tmp_path, TENKAIGEN_PNG_METADATA="off"))) as client:
        job_id = completed_draft(client, IDEA, "anime", "t-shirt", seed=5)
        body = client.post(f"/api/generate/{job_id}/print-file").json()
        draft = opened(client.get(client.get(f"/api/generate/status/{job_id}").json()["image_url"]).content)
        printed = opened(client.get(body["print_file_url"]).content)
    for image in (draft, printed):
        assert not {"prompt", "negative_prompt", "seed", "steps", "model", "revision"} & set(image.text)
    assert PREFLIGHT_CHUNK in printed.text  # the checklist is not the generation record: it stays


def test_the_draft_carries_its_generation_record(client):
    job_id = completed_draft(client, IDEA, "anime", "t-shirt", seed=5)
    draft = opened(client.get(client.get(f"/api/generate/status/{job_id}").json()["image_url"]).content)
    assert draft.text["seed"] == "5" and draft.text["model"] == "draft-renderer" and draft.text["revision"]
    assert draft.text["steps"] == "50"


def test_a_print_file_stored_without_its_checklist_is_rendered_again(client, tmp_path):
    job_id = completed_draft(client, IDEA, "anime", "sticker", seed=5)
    services = client.app.state.services
    key = image_key(services.generation.objects.prefix, "local", job_id, "_print")
    old = Image.new("RGBA", (1200, 1200))
    buffer = io.BytesIO()
    old.save(buffer, format="PNG", dpi=(300, 300))  # right size and DPI, made before preflight
    services.generation.objects.put_png(key, buffer.getvalue())
    body = client.post(f"/api/generate/{job_id}/print-file").json()
    assert body["preflight"] and PREFLIGHT_CHUNK in opened(services.generation.objects.get(key)).text
