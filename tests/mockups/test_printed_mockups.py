"""Mockups show what is printed: the cut-out design on garments, bags and stickers (the
product's colour round the subject, not the design's background as a rectangle), a die-cut
sticker's white backing following the design's outline, and the design laid into the print
area as the print file lays it."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from core.catalog import Catalog
from core.imaging.colour import hex_rgb
from core.mockups import render_mockup, template_for
from tests.printing.test_printfiles import INK, design_png

SIZE = 640


def mockup_pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def near(pixel: np.ndarray, colour: tuple[int, int, int], tolerance: int) -> bool:
    return bool(np.abs(pixel - np.asarray(colour)).max() <= tolerance)


def test_a_hoodie_shows_its_own_colour_round_the_design_not_the_designs_background(catalog: Catalog):
    hoodie = catalog.product("hoodie")  # dark fabric, the design's background near-white
    pixels = mockup_pixels(render_mockup(design_png(hoodie.generation_size), hoodie, SIZE))
    x0, y0, x1, y1 = template_for(hoodie, SIZE).box
    fabric = hex_rgb(hoodie.base_color)
    inset = 4
    for x, y in ((x0 + inset, y0 + inset), (x1 - inset, y0 + inset), (x0 + inset, y1 - inset), (x1 - inset, y1 - inset),
                 (x0 + inset, (y0 + y1) // 2), (x1 - inset, (y0 + y1) // 2)):
        assert near(pixels[y, x], fabric, 30), (x, y, pixels[y, x])  # the print area round the disc is fabric
    assert near(pixels[(y0 + y1) // 2 - (y1 - y0) // 5, (x0 + x1) // 2], INK, 60)  # the disc is printed


def test_a_die_cut_sticker_has_a_white_border_following_the_designs_outline(catalog: Catalog):
    sticker = catalog.product("sticker")
    pixels = mockup_pixels(render_mockup(design_png(sticker.generation_size), sticker, SIZE))
    template = template_for(sticker, SIZE)
    x0, y0, x1, y1 = template.box
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    radius = (x1 - x0) / 3  # the disc's radius (a third of the design), unchanged by the sticker's turn
    border = template.die_cut
    assert near(pixels[cy, round(cx - radius * 0.8)], INK, 60)  # the design
    assert near(pixels[cy, round(cx - radius - border * 0.5)], (255, 255, 255), 6)  # the backing, just outside
    backdrop = pixels[cy, round(cx - radius - border * 2.5)]
    assert not near(backdrop, (255, 255, 255), 12), backdrop  # past the cut: the table, not a white square
    assert not near(pixels[y0 + 3, x0 + 3], (255, 255, 255), 12)  # the box's corner is not part of the sticker


STRIPES = [(220, 40, 40), (240, 150, 30), (230, 220, 40), (60, 180, 60), (40, 170, 200), (40, 60, 200),
           (140, 50, 190), (30, 30, 30)]


def test_a_design_of_another_shape_is_fitted_whole_into_a_garments_print_area(catalog: Catalog):
    shirt = catalog.product("t-shirt")  # a 3:4 print area; the banner is 4:1 stripes, no plain background
    banner = Image.new("RGB", (1200, 300))
    for i, colour in enumerate(STRIPES):
        banner.paste(colour, (i * 150, 0, (i + 1) * 150, 300))
    png = io.BytesIO()
    banner.save(png, format="PNG")
    pixels = mockup_pixels(render_mockup(png.getvalue(), shirt, SIZE))
    x0, y0, x1, y1 = template_for(shirt, SIZE).box
    middle = (y0 + y1) // 2
    # both ends of the banner are printed (contain, as the print file), not its middle cropped out
    assert near(pixels[middle, x0 + 3], STRIPES[0], 40) and near(pixels[middle, x1 - 4], STRIPES[-1], 40)
    above = pixels[y0 + 4, x0 + 2:x1 - 2]
    assert above.std(axis=0).max() < 8  # padded above in one colour, as the print file pads it
