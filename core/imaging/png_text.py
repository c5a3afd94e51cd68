"""Text in PNG files: the generation record a design carries (so it can be made again), and a
text chunk added to an encoded PNG without encoding its pixels again."""

from __future__ import annotations

import struct
import zlib

# The keys of the generation record, as the chunks name them.
RECORD_KEYS = ("prompt", "negative_prompt", "seed", "steps", "model", "revision")
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def generation_text(
    prompt: str, negative_prompt: str, seed: int | None, steps: int | None, model: str | None, revision: str | None
) -> dict[str, str]:
    """The generation record as text chunks; what is unknown is left out."""
    values = {"prompt": prompt, "negative_prompt": negative_prompt, "seed": seed, "steps": steps,
              "model": model, "revision": revision}
    return {key: str(value) for key, value in values.items() if value not in (None, "")}


def add_text_chunk(png: bytes, key: str, value: str) -> bytes:
    """`png` with an iTXt chunk (UTF-8, uncompressed) holding key=value inserted before IEND."""
    if not png.endswith(_IEND):
        raise ValueError("the PNG does not end with its IEND chunk")
    data = key.encode("latin-1") + b"\x00\x00\x00" + b"\x00" + b"\x00" + value.encode("utf-8")
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data + struct.pack(">I", zlib.crc32(b"iTXt" + data))
    return png[: -len(_IEND)] + chunk + _IEND
