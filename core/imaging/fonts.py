"""The one bold font the renderers draw text with: the first bold TrueType font found on the machine, else Pillow's own."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

FONT_CANDIDATES = (
    "DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/local/share/fonts/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
)
LINE_SAMPLE = "ÅgHy"  # the tallest and the deepest glyphs: their box is a full line


def load_font(size: int) -> Font:
    """A new font of `size` px (never shared: FreeType faces are not safe across threads)."""
    source = _font_source()
    if source is not None:
        return ImageFont.truetype(io.BytesIO(source), size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the bitmap font has one size
        return ImageFont.load_default()


def line_top(font: Font) -> float:
    """How far below the drawing point the tallest glyph of a line starts."""
    return font.getbbox(LINE_SAMPLE)[1]


def line_height(font: Font) -> int:
    """The height of one line of text, from the tallest glyph's top to the deepest glyph's foot."""
    left, top, right, bottom = font.getbbox(LINE_SAMPLE)
    return max(1, round(bottom - top))


@lru_cache(maxsize=1)
def _font_source() -> bytes | None:
    """The bytes of the first TrueType font found, read once (fonts are then built per call:
    FreeType faces are not shared between the worker threads)."""
    for candidate in FONT_CANDIDATES:
        try:
            found = ImageFont.truetype(candidate, 12)
        except OSError:
            continue
        path = getattr(found, "path", candidate)
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except (OSError, TypeError):
            continue
    return None
