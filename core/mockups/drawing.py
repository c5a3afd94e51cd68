"""Pillow drawing primitives for the mockups: smooth paths, anti-aliased masks, gradients.

Coordinates are fractions of the square canvas (0..1), so every product is drawn once
per preview size. ImageDraw does not anti-alias, so masks are drawn at SUPERSAMPLE times
the size and reduced.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

RGB = tuple[int, int, int]
Point = tuple[float, float]
Box = tuple[int, int, int, int]

SUPERSAMPLE = 3


def hex_rgb(color: str) -> RGB:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def luminance(color: RGB) -> float:
    r, g, b = color
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def quad(p0: Point, c: Point, p1: Point, steps: int = 12) -> list[Point]:
    """Points of a quadratic Bézier from p0 (excluded) to p1 (included)."""
    out = []
    for i in range(1, steps + 1):
        t = i / steps
        u = 1 - t
        out.append((u * u * p0[0] + 2 * u * t * c[0] + t * t * p1[0], u * u * p0[1] + 2 * u * t * c[1] + t * t * p1[1]))
    return out


def mirrored(right_half: Sequence[Point], axis: float = 0.5) -> list[Point]:
    """A closed outline from its right half (listed top to bottom), mirrored about x = axis."""
    left = [(2 * axis - x, y) for x, y in reversed(right_half)]
    return [*right_half, *left]


def unit_box(box: tuple[float, float, float, float], size: int) -> Box:
    x0, y0, x1, y1 = box
    return round(x0 * size), round(y0 * size), round(x1 * size), round(y1 * size)


def mask(size: int, draw: Callable[[ImageDraw.ImageDraw, float], None]) -> Image.Image:
    """An anti-aliased L mask: `draw(d, scale)` paints 255 with unit coordinates times scale."""
    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    draw(ImageDraw.Draw(big), size * SUPERSAMPLE)
    return big.resize((size, size), Image.Resampling.BOX)


def polygon_mask(size: int, points: Sequence[Point]) -> Image.Image:
    return mask(size, lambda d, s: d.polygon([(x * s, y * s) for x, y in points], fill=255))


def rounded_mask(size: int, box: tuple[float, float, float, float], radius: float) -> Image.Image:
    return mask(size, lambda d, s: d.rounded_rectangle([v * s for v in box], radius=radius * s, fill=255))


def blur(image: Image.Image, radius: float) -> Image.Image:
    """A wide Gaussian blur, done at a quarter of the size where the radius allows it."""
    if radius < 8:
        return image.filter(ImageFilter.GaussianBlur(radius))
    small = image.resize((max(1, image.width // 4), max(1, image.height // 4)), Image.Resampling.BOX)
    return small.filter(ImageFilter.GaussianBlur(radius / 4)).resize(image.size, Image.Resampling.BILINEAR)


def drop_shadow(shape: Image.Image, offset: tuple[float, float], radius: float, opacity: float) -> Image.Image:
    """The shadow a shape casts: its mask moved, blurred and scaled to `opacity` (0..1)."""
    dx, dy = round(offset[0]), round(offset[1])
    moved = ImageChops.offset(shape, dx, dy)
    return blur(moved, radius).point(lambda v: round(v * opacity))


def vertical_gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    ramp = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return ImageOps.colorize(ramp, black=top, white=bottom)


def horizontal_profile(size: tuple[int, int], profile: Callable[[float], float]) -> Image.Image:
    """An L image whose columns follow `profile(t)` (t from 0 at the left to 1 at the right, values 0..255)."""
    width, height = size
    row = Image.new("L", (width, 1))
    row.putdata([max(0, min(255, round(profile(x / max(1, width - 1))))) for x in range(width)])
    return row.resize(size, Image.Resampling.NEAREST)


def cylinder_profile(dark: float, highlight_at: float = 0.3) -> Callable[[float], float]:
    """Lighting across a cylinder seen from the front: darker towards both edges."""

    def shade(t: float) -> float:
        angle = (t - 0.5) * math.pi
        lit = max(0.0, math.cos(angle - (highlight_at - 0.5) * 0.6)) ** 0.6
        return 255 * (1 - dark + dark * lit)

    return shade


def paint(canvas: Image.Image, color: RGB | Image.Image, shape: Image.Image) -> None:
    """Fill `shape` (an L mask the size of the canvas) with a colour or an image."""
    fill = Image.new("RGB", canvas.size, color) if isinstance(color, tuple) else color
    canvas.paste(fill, (0, 0), shape)


def shade_layer(size: int, strokes: Sequence[tuple[Sequence[Point], float, int]], radius: float) -> Image.Image:
    """A soft L shading layer (255 = unchanged): each stroke is (points, width, darkness 0..255)."""
    layer = Image.new("L", (size, size), 255)
    d = ImageDraw.Draw(layer)
    for points, width, darkness in strokes:
        d.line([(x * size, y * size) for x, y in points], fill=255 - darkness, width=max(1, round(width * size)), joint="curve")
    return blur(layer, radius * size)
