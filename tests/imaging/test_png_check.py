"""check_png's own bounds, with images Pillow itself opens without complaint (its
decompression-bomb guard starts at about 89 million pixels, far above these)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.errors import InvalidRequest
from core.imaging.png_check import MAX_PIXELS, MAX_SIDE_PX, PNG_HEADER_BYTES, check_png, check_png_header


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


# --- the header alone (a direct upload's object, fetched by its first bytes) ----------------
@pytest.mark.parametrize("mode,size", [("L", (300, 200)), ("RGB", (1328, 1328)), ("RGBA", (17, 9)), ("P", (5, 640))])
def test_the_header_tells_the_size_pillow_reads(mode, size):
    data = png(*size, mode=mode)
    assert check_png_header(data[:PNG_HEADER_BYTES]) == size == Image.open(io.BytesIO(data)).size


def test_a_header_cut_short_or_not_a_png_is_refused():
    data = png(300, 200)
    with pytest.raises(InvalidRequest, match="cut short"):
        check_png_header(data[:PNG_HEADER_BYTES - 1])
    with pytest.raises(InvalidRequest, match="bad signature"):
        check_png_header(b"GIF89a" + data[6:PNG_HEADER_BYTES])


def test_a_header_whose_crc_fails_is_refused():
    data = bytearray(png(300, 200)[:PNG_HEADER_BYTES])
    data[19] ^= 0x01  # the width's last byte: 300 becomes 301, the CRC no longer holds
    with pytest.raises(InvalidRequest, match="CRC"):
        check_png_header(bytes(data))


def test_a_header_over_the_bounds_is_refused_before_any_pixel():
    with pytest.raises(InvalidRequest, match="out of bounds"):
        check_png_header(png(MAX_SIDE_PX + 1, 10, mode="1")[:PNG_HEADER_BYTES])
    with pytest.raises(InvalidRequest, match="out of bounds"):
        check_png_header(png(300, 200)[:PNG_HEADER_BYTES], max_side=299)
