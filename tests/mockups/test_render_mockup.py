"""render_mockup: the design lands in each product's print area, on the product's colour."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.catalog import Product
from core.errors import InvalidRequest
from core.mockups import render_mockup, template_for
from tests.support.fake_worker import solid_png

DESIGN_RGB = (30, 160, 220)


def open_png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(data)).convert("RGB")


def close_to(pixel: tuple[int, ...], expected: tuple[int, int, int], tolerance: int) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=False))


def print_centre(product: Product, size: int) -> tuple[int, int]:
    x0, y0, x1, y1 = template_for(product, size).box
    return (x0 + x1) // 2, (y0 + y1) // 2


@pytest.mark.parametrize("product_id", ["t-shirt", "hoodie", "mug", "poster", "canvas", "phone-case", "tote-bag", "sticker"])
def test_every_catalog_product_shows_the_design_in_its_print_area(catalog, product_id):
    product = catalog.product(product_id)
    width, height = product.generation_size
    mockup = open_png(render_mockup(solid_png(width, height, DESIGN_RGB), product, size=320))
    assert mockup.size == (320, 320)
    # shading darkens or lightens the print a little; the hue stays the design's
    assert close_to(mockup.getpixel(print_centre(product, 320)), DESIGN_RGB, tolerance=60)
    assert close_to(mockup.getpixel((4, 4)), (239, 237, 233), tolerance=20)  # the studio backdrop


def test_a_transparent_design_shows_the_product_colour_through_it(catalog):
    product = catalog.product("hoodie")
    clear = io.BytesIO()
    Image.new("RGBA", product.generation_size, (255, 0, 0, 0)).save(clear, format="PNG")
    mockup = open_png(render_mockup(clear.getvalue(), product, size=320))
    centre = mockup.getpixel(print_centre(product, 320))
    assert close_to(centre, (0x2B, 0x2D, 0x42), tolerance=30)


def test_a_design_of_another_shape_is_cropped_to_fill_the_print_area(catalog):
    product = catalog.product("poster")
    wide = io.BytesIO()
    banner = Image.new("RGB", (1200, 300), (250, 250, 250))
    banner.paste(DESIGN_RGB, (450, 0, 750, 300))  # the middle quarter is the design's subject
    banner.save(wide, format="PNG")
    mockup = open_png(render_mockup(wide.getvalue(), product, size=320))
    x0, y0, x1, y1 = template_for(product, 320).box
    assert close_to(mockup.getpixel(((x0 + x1) // 2, y0 + (y1 - y0) // 8)), DESIGN_RGB, tolerance=60)
    assert close_to(mockup.getpixel((x0 + 3, (y0 + y1) // 2)), DESIGN_RGB, tolerance=60)


def test_an_unknown_shape_is_shown_as_a_poster(catalog):
    odd = catalog.product("poster").model_copy(update={"id": "flag", "shape": "flag"})
    assert template_for(odd, 200) is template_for(catalog.product("poster"), 200)


def test_bytes_that_are_not_an_image_are_refused(catalog):
    with pytest.raises(InvalidRequest, match="not a readable image"):
        render_mockup(b"definitely not a png", catalog.product("mug"))


def test_an_unreasonable_size_is_refused(catalog):
    with pytest.raises(InvalidRequest, match="mockup size"):
        render_mockup(solid_png(64, 64), catalog.product("mug"), size=10_000)


def test_the_mockup_bench_runs_for_every_product(catalog):
    from bench.bench_mockups import run

    timings = run(runs=1, size=128)
    assert [t.product for t in timings] == list(catalog.products)
    assert all(t.first_ms > 0 and t.warm_median_ms > 0 for t in timings)
