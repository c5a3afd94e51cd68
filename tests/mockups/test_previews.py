"""Studio previews: style swatches, history thumbnails and status tiles."""

from __future__ import annotations

import io

from PIL import Image

from core.mockups.previews import render_status_tile, render_swatch, render_thumbnail
from tests.support.fake_worker import solid_png


def open_image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_a_swatch_shows_each_palette_colour_in_order_with_rounded_transparent_corners():
    swatch = open_image(render_swatch(["#ff0000", "#00ff00", "#0000ff"], 90, 30)).convert("RGBA")
    assert swatch.size == (90, 30)
    assert swatch.getpixel((0, 0))[3] == 0  # the corner is cut round
    assert swatch.getpixel((10, 15))[:3] == (255, 0, 0)
    assert swatch.getpixel((45, 15))[:3] == (0, 255, 0)
    assert swatch.getpixel((80, 15))[:3] == (0, 0, 255)


def test_a_thumbnail_keeps_the_aspect_within_the_side():
    thumb = open_image(render_thumbnail(solid_png(1104, 1472), side=320))
    assert thumb.format == "JPEG" and thumb.size == (240, 320)


def test_a_transparent_design_is_thumbnailed_over_white():
    clear = io.BytesIO()
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(clear, format="PNG")
    thumb = open_image(render_thumbnail(clear.getvalue(), side=32)).convert("RGB")
    assert all(channel > 245 for channel in thumb.getpixel((16, 16)))


def test_a_status_tile_is_a_square_in_the_status_colour():
    tile = open_image(render_status_tile("failed", "worker timed out", side=200)).convert("RGB")
    assert tile.size == (200, 200)
    assert tile.getpixel((5, 5)) == (0xFB, 0xE4, 0xE4)
