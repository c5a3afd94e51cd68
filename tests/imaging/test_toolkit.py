"""The shared imaging toolkit: PNG encoding with its optional chunks, colours, blurs."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageFilter

from core.imaging.colour import hex_rgb, parse_colour
from core.imaging.masks import blurred
from core.imaging.png import encode_png, srgb_profile
from core.imaging.png_check import check_png


def _decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_an_encoded_png_decodes_to_the_same_pixels_and_passes_the_check():
    image = Image.new("RGB", (40, 30), (12, 200, 99))
    ImageDraw.Draw(image).ellipse((5, 5, 30, 25), fill=(250, 10, 10))

    png = encode_png(image, compress_level=2)

    assert check_png(png) == (40, 30)
    assert ImageChops.difference(_decoded(png), image).getbbox() is None


def test_dpi_colour_profile_and_text_are_written_when_asked():
    png = encode_png(Image.new("RGB", (8, 8)), dpi=300, icc_profile=srgb_profile(), text={"Software": "TenkaiGen"})

    decoded = _decoded(png)
    assert decoded.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    profile = ImageCms.ImageCmsProfile(io.BytesIO(decoded.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    assert decoded.text == {"Software": "TenkaiGen"}


def test_a_plain_encode_writes_no_optional_chunks():
    decoded = _decoded(encode_png(Image.new("RGB", (8, 8))))

    assert "dpi" not in decoded.info and "icc_profile" not in decoded.info and not decoded.text


def test_hex_codes_and_colour_words_are_read_and_anything_else_is_refused():
    assert hex_rgb("#efede9") == (0xEF, 0xED, 0xE9)
    assert hex_rgb("fff") == (255, 255, 255)
    assert parse_colour("teal") == hex_rgb("teal")
    with pytest.raises(ValueError, match="not a colour"):
        hex_rgb("#12")


def test_a_narrow_blur_below_the_full_size_limit_is_done_at_full_size():
    mask = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(mask).rectangle((20, 20, 43, 43), fill=255)

    exact = blurred(mask, 2, full_size_below=8)
    cheap = blurred(mask, 2)

    assert ImageChops.difference(exact, mask.filter(ImageFilter.GaussianBlur(2))).getbbox() is None
    assert ImageChops.difference(exact, cheap).getbbox() is not None
