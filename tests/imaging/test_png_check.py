"""check_png's own bounds, with images Pillow itself opens without complaint (its
decompression-bomb guard starts at about 89 million pixels, far above these)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.errors import InvalidRequest
from core.imaging.png_check import MAX_PIXELS, MAX_SIDE_PX, check_png


def png(width: int, height: int, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("size", [(MAX_SIDE_PX + 808, 10), (10, MAX_SIDE_PX + 1)], ids=["9000x10", "10x8193"])
def test_an_image_with_a_side_over_the_bound_is_refused(size):
    with pytest.raises(InvalidRequest, match="out of bounds"):
        check_png(png(*size))


def test_an_image_over_the_pixel_bound_is_refused_though_each_side_fits():
    width, height = 7000, 6000  # 42 MP: each side under 8192, the area over 40 MP
    assert width <= MAX_SIDE_PX and height <= MAX_SIDE_PX and width * height > MAX_PIXELS
    with pytest.raises(InvalidRequest, match="out of bounds"):
        check_png(png(width, height, mode="1"))


def test_the_bounds_are_the_callers_when_given():
    image = png(300, 200)
    assert check_png(image) == (300, 200)
    assert check_png(image, max_side=300, max_pixels=60_000) == (300, 200)
    with pytest.raises(InvalidRequest, match="out of bounds"):
        check_png(image, max_side=299)
    with pytest.raises(InvalidRequest, match="out of bounds"):
        check_png(image, max_pixels=59_999)


def test_an_image_at_the_side_bound_is_accepted():
    assert check_png(png(MAX_SIDE_PX, 10)) == (MAX_SIDE_PX, 10)
