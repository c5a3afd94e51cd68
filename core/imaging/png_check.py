"""Checks a PNG before it is trusted: signature, bounded dimensions, then every pixel decoded.

(`check_png_header` reads only the signature and the IHDR chunk: what a direct upload's object
is checked with when fetching the whole of it is not worth it; see core/jobs/results.py.)

A PNG whose header is right may still be corrupt further on (a cut or garbled IDAT, a bad
CRC), and a text chunk may inflate to hundreds of megabytes. Reading the header only lets
such an image complete a job and break every later reader (print files, thumbnails), so the
image is decoded whole here, within limits:
- the dimensions are checked from the header before any pixel is decoded (decompression bombs);
- Pillow refuses a text chunk that inflates past `PngImagePlugin.MAX_TEXT_CHUNK` (1 MiB) and
  text chunks past `MAX_TEXT_MEMORY` (64 MiB) in all, inflating no further than that; the
  check insists on those limits, so a process that raised them does not lift them here.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageFile, PngImagePlugin

from core.errors import InvalidRequest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE_PX = 8192
MAX_PIXELS = 40_000_000
# Pillow's own defaults; a text chunk inflating past these is refused, not read.
MAX_TEXT_CHUNK_BYTES = 1024 * 1024
MAX_TEXT_MEMORY_BYTES = 64 * 1024 * 1024

# What Pillow raises for a corrupt, truncated or oversized PNG.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error, Image.DecompressionBombError)


def _check_limits() -> None:
    if PngImagePlugin.MAX_TEXT_CHUNK > MAX_TEXT_CHUNK_BYTES or PngImagePlugin.MAX_TEXT_MEMORY > MAX_TEXT_MEMORY_BYTES:
        raise RuntimeError("Pillow's PNG text-chunk limits were raised; the PNG check relies on them")
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("ImageFile.LOAD_TRUNCATED_IMAGES is on; the PNG check must see truncated images")


def load_png(data: bytes, max_side: int = MAX_SIDE_PX, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The PNG fully decoded (pixels loaded, every chunk's CRC checked); InvalidRequest otherwise.

    The dimensions are checked against `max_side` and `max_pixels` before a pixel is decoded.
    """
    _check_limits()
    if not data.startswith(PNG_SIGNATURE):
        raise InvalidRequest("image is not a PNG (bad signature)")
    try:
        with Image.open(io.BytesIO(data)) as header:
            if header.format != "PNG":
                raise InvalidRequest("image is not a PNG")
            width, height = header.size
            if not (0 < width <= max_side and 0 < height <= max_side) or width * height > max_pixels:
                raise InvalidRequest(f"image dimensions {width}x{height} are out of bounds (max side {max_side})")
            header.verify()  # every chunk's CRC, up to IEND
        image = Image.open(io.BytesIO(data))
        image.load()
    except _DECODE_ERRORS as exc:
        raise InvalidRequest(f"image could not be read: {exc}") from exc
    return image


def check_png(data: bytes, max_side: int = MAX_SIDE_PX, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """The (width, height) of a well-formed PNG within bounds, every pixel decoded; InvalidRequest otherwise."""
    with load_png(data, max_side, max_pixels) as image:
        return image.size


# the signature, then IHDR: length (4), type (4), width, height, bit depth, colour type,
# compression, filter, interlace (13), CRC (4)
PNG_HEADER_BYTES = len(PNG_SIGNATURE) + 4 + 4 + 13 + 4
# colour type: the bit depths PNG allows for it
_BIT_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}


def check_png_header(head: bytes, max_side: int = MAX_SIDE_PX, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """The (width, height) a PNG's first PNG_HEADER_BYTES declare: signature, an IHDR chunk
    whose CRC holds and whose fields PNG allows, dimensions within bounds; InvalidRequest otherwise.
    Nothing past the header is read: a PNG cut or garbled further on passes (check_png finds that)."""
    if not head.startswith(PNG_SIGNATURE):
        raise InvalidRequest("image is not a PNG (bad signature)")
    if len(head) < PNG_HEADER_BYTES:
        raise InvalidRequest("image is cut short before the end of its PNG header")
    length, chunk_type = struct.unpack(">I4s", head[8:16])
    data, crc = head[16:29], struct.unpack(">I", head[29:33])[0]
    if length != 13 or chunk_type != b"IHDR":
        raise InvalidRequest("image is not a PNG (its first chunk is not IHDR)")
    if zlib.crc32(chunk_type + data) != crc:
        raise InvalidRequest("image could not be read: the PNG header's CRC does not match")
    width, height, bit_depth, colour_type, compression, filter_method, interlace = struct.unpack(">IIBBBBB", data)
    if bit_depth not in _BIT_DEPTHS.get(colour_type, ()) or compression or filter_method or interlace > 1:
        raise InvalidRequest("image could not be read: its PNG header has fields PNG does not allow")
    if not (0 < width <= max_side and 0 < height <= max_side) or width * height > max_pixels:
        raise InvalidRequest(f"image dimensions {width}x{height} are out of bounds (max side {max_side})")
    return width, height
