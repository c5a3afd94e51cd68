"""Pillow drawing primitives for the mockups: smooth paths, anti-aliased masks, painting.

Coordinates are fractions of the square canvas (0..1), so every product is drawn once
per preview size. ImageDraw does not anti-alias, so masks are drawn at SUPERSAMPLE times
the size and reduced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw

from core.imaging.colour import RGB

Point = tuple[float, float]
Box = tuple[int, int, int, int]

SUPERSAMPLE = 3


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


def paint(canvas: Image.Image, color: RGB | Image.Image, shape: Image.Image) -> None:
    """Fill `shape` (an L mask the size of the canvas) with a colour or an image."""
    fill = Image.new("RGB", canvas.size, color) if isinstance(color, tuple) else color
    canvas.paste(fill, (0, 0), shape)


def draw_lines(canvas: Image.Image, size: int, color: RGB, lines: list[tuple[list[Point], float]]) -> None:
    """Anti-aliased polylines, each (points, width) in unit coordinates."""
    for points, width in lines:
        line = mask(size, lambda d, s, p=points, w=width: d.line([(x * s, y * s) for x, y in p], fill=255, width=max(1, round(w * s)), joint="curve"))
        paint(canvas, color, line)


def smooth_rgba(layer: Image.Image) -> Image.Image:
    """Softens the hard edges of an RGBA layer drawn at 1x (a light anti-aliasing pass)."""
    big = layer.resize((layer.width * 2, layer.height * 2), Image.Resampling.BILINEAR)
    return big.resize(layer.size, Image.Resampling.BOX)
