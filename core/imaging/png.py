"""PNG encoding, in one place: the compression level and the optional pHYs (DPI), iCCP
(colour profile) and tEXt chunks."""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import lru_cache

from PIL import Image, ImageCms, PngImagePlugin

DEFAULT_COMPRESS_LEVEL = 6  # zlib's default: what Pillow writes when not told


def encode_png(
    image: Image.Image,
    compress_level: int = DEFAULT_COMPRESS_LEVEL,
    dpi: int | None = None,
    icc_profile: bytes | None = None,
    text: Mapping[str, str] | None = None,
) -> bytes:
    """The PNG bytes of `image`. `compress_level` trades size for time (0 to 9); `dpi` is
    written as the pixel density, `icc_profile` as the colour profile, `text` as tEXt chunks."""
    options: dict[str, object] = {"compress_level": compress_level}
    if dpi is not None:
        options["dpi"] = (dpi, dpi)
    if icc_profile is not None:
        options["icc_profile"] = icc_profile
    if text:
        info = PngImagePlugin.PngInfo()
        for key, value in text.items():
            info.add_text(key, value)
        options["pnginfo"] = info
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """An sRGB ICC profile, built once (what print shops expect a print file to carry)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
