"""Checks a PNG before it is stored: signature, decodable header, bounded dimensions."""

from __future__ import annotations

import io

from PIL import Image

from core.errors import InvalidRequest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE_PX = 8192
MAX_PIXELS = 40_000_000


def check_png(data: bytes, max_side: int = MAX_SIDE_PX, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """The (width, height) of a well-formed PNG within bounds; InvalidRequest otherwise.

    Reads the header only, so a decompression bomb is refused before any pixel is decoded.
    """
    if not data.startswith(PNG_SIGNATURE):
        raise InvalidRequest("image is not a PNG (bad signature)")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if image.format != "PNG":
                raise InvalidRequest("image is not a PNG")
    except (OSError, Image.DecompressionBombError) as exc:
        raise InvalidRequest(f"image could not be read: {exc}") from exc
    if not (0 < width <= max_side and 0 < height <= max_side) or width * height > max_pixels:
        raise InvalidRequest(f"image dimensions {width}x{height} are out of bounds (max side {max_side})")
    return width, height
