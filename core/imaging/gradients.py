"""Linear and radial colour gradients, built cheaply from Pillow's greyscale ramps."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from PIL import Image

from core.imaging.colour import RGB

Size = tuple[int, int]


def vertical_ramp(size: Size) -> Image.Image:
    """An L image going from 0 at the top to 255 at the bottom.

    Built as one column stretched sideways: the same pixels as resizing Pillow's ramp to
    `size`, for a fraction of the work."""
    return _ramp_column(size[1]).resize(size, Image.Resampling.NEAREST)


def horizontal_profile(size: Size, profile: Callable[[float], float]) -> Image.Image:
    """An L image whose columns follow `profile(t)` (t from 0 at the left to 1 at the right, values 0..255)."""
    width, height = size
    row = Image.new("L", (width, 1))
    row.putdata([max(0, min(255, round(profile(x / max(1, width - 1))))) for x in range(width)])
    return row.resize(size, Image.Resampling.NEAREST)


def vertical_gradient(size: Size, top: RGB, bottom: RGB) -> Image.Image:
    """`top` colour at the top fading to `bottom` at the bottom.

    Built as one coloured column stretched sideways: much cheaper than compositing."""
    ramp = _ramp_column(size[1])
    bands = [ramp.point([round(t + (b - t) * v / 255) for v in range(256)]) for t, b in zip(top, bottom, strict=True)]
    return Image.merge("RGB", bands).resize(size, Image.Resampling.NEAREST)


def radial_gradient(
    size: Size, centre: RGB, edge: RGB, at: tuple[float, float] = (0.5, 0.5), reach: float = 0.7
) -> Image.Image:
    """`centre` colour at `at` (fractions of the size) fading to `edge` at `reach` x the longer side."""
    w, h = size
    radius = max(reach * max(w, h), max(w, h) / 2.9)
    scale = 128 / radius
    cx, cy = at[0] * w, at[1] * h
    box = (384 - cx * scale, 384 - cy * scale, 384 + (w - cx) * scale, 384 + (h - cy) * scale)
    mask = _radial_mask().resize(size, Image.Resampling.BILINEAR, box=box)
    return Image.composite(Image.new("RGB", size, edge), Image.new("RGB", size, centre), mask)


def _ramp_column(height: int) -> Image.Image:
    """A 1 px wide L column from 0 at the top to 255 at the bottom."""
    return Image.linear_gradient("L").resize((1, height), Image.Resampling.BILINEAR)


@lru_cache(maxsize=1)
def _radial_mask() -> Image.Image:
    """0 at the centre of a 768px square, 255 from 128px out (Pillow's gradient reaches 255
    only in its corners, so it is rescaled and padded)."""
    inner = Image.radial_gradient("L").point(lambda v: min(255, round(v * 181 / 128)))
    padded = Image.new("L", (768, 768), 255)
    padded.paste(inner, (256, 256))
    return padded
