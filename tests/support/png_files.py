"""Reading the PNGs a test made or received: decoded whole, or chunk by chunk from the file."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def opened(png: bytes) -> Image.Image:
    """The image, every pixel decoded."""
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """Each chunk's (type, data) in file order, straight from the bytes; every CRC checked."""
    assert png.startswith(SIGNATURE), "not a PNG"
    position, found = len(SIGNATURE), []
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        data = png[position + 8:position + 8 + length]
        assert zlib.crc32(kind + data) == struct.unpack(">I", png[position + 8 + length:position + 12 + length])[0]
        found.append((kind, data))
        position += 12 + length
    return found
