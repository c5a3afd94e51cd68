"""PNGs whose header is right and whose body is not: what only a whole decode catches."""

from __future__ import annotations

import struct
import zlib

from tests.support.fake_worker import solid_png
from tests.support.png_files import SIGNATURE, png_chunks


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _rebuild(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return SIGNATURE + b"".join(_chunk(kind, data) for kind, data in chunks)


def _idat_index(chunks: list[tuple[bytes, bytes]]) -> int:
    return next(i for i, (kind, _) in enumerate(chunks) if kind == b"IDAT")


def garbled_png(width: int, height: int) -> bytes:
    """Pixel data garbled mid-stream, its CRC recomputed so only decoding notices."""
    chunks = png_chunks(solid_png(width, height))
    at = _idat_index(chunks)
    data = bytearray(chunks[at][1])
    middle = len(data) // 2
    data[middle:middle + 4] = bytes(b ^ 0xFF for b in data[middle:middle + 4])
    chunks[at] = (b"IDAT", bytes(data))
    return _rebuild(chunks)


def cut_png(width: int, height: int) -> bytes:
    """The pixel data cut in half, the file otherwise well formed."""
    chunks = png_chunks(solid_png(width, height))
    at = _idat_index(chunks)
    chunks[at] = (b"IDAT", chunks[at][1][: len(chunks[at][1]) // 2])
    return _rebuild(chunks)


def text_bomb_png(width: int, height: int, inflated_mb: int = 200, before_pixels: bool = False) -> bytes:
    """A zTXt chunk of a few hundred KB that inflates to `inflated_mb` MB, after the pixels
    (only a whole decode reaches it) or before them (the header read meets it)."""
    deflate, block = zlib.compressobj(9), bytes(1 << 20)
    text = b"".join(deflate.compress(block) for _ in range(inflated_mb)) + deflate.flush()
    chunks = png_chunks(solid_png(width, height))
    at = _idat_index(chunks) + (0 if before_pixels else 1)
    chunks.insert(at, (b"zTXt", b"Comment\x00\x00" + text))
    return _rebuild(chunks)
