"""How a product and its print are lit: L layers multiplied in (255 = unchanged), gloss
screened on (0 = unchanged), fabric grain, folds, and the shadow the product casts.

Sizes and offsets are fractions of the square canvas, like the drawings that use them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PIL import Image, ImageChops, ImageDraw

from core.imaging.colour import RGB, luminance
from core.imaging.gradients import horizontal_profile, vertical_ramp
from core.imaging.masks import blurred, cast_shadow
from core.mockups.drawing import Box, Point, paint

# mockups are drawn once per size and kept: narrow blurs are done at full size, where a
# quarter-size copy would show its pixels in a small preview's shadows
FULL_SIZE_BLUR_BELOW_PX = 8
SHADOW_COLOUR = (40, 34, 28)

Stroke = tuple[Sequence[Point], float, int]  # points, width, darkness 0..255


def soft_blur(layer: Image.Image, radius: float) -> Image.Image:
    """`layer` blurred by `radius` px, at full size where the blur is narrow."""
    return blurred(layer, radius, full_size_below=FULL_SIZE_BLUR_BELOW_PX)


def put_shadow(canvas: Image.Image, shape: Image.Image, size: int, drop: float = 0.014, radius: float = 0.022, opacity: float = 0.33) -> None:
    """The soft shadow `shape` casts `drop` below itself, painted onto the canvas."""
    shadow = cast_shadow(shape, (0, drop * size), radius * size, opacity, full_size_below=FULL_SIZE_BLUR_BELOW_PX)
    paint(canvas, SHADOW_COLOUR, shadow)


def shade_layer(size: int, strokes: Sequence[Stroke], radius: float) -> Image.Image:
    """A soft L shading layer (255 = unchanged): each stroke is (points, width, darkness 0..255)."""
    layer = Image.new("L", (size, size), 255)
    d = ImageDraw.Draw(layer)
    for points, width, darkness in strokes:
        d.line([(x * size, y * size) for x, y in points], fill=255 - darkness, width=max(1, round(width * size)), joint="curve")
    return soft_blur(layer, radius * size)


def mirror_strokes(strokes: list[Stroke]) -> list[Stroke]:
    """The strokes and their mirror images about the canvas's vertical centre line."""
    return [*strokes, *[([(1 - x, y) for x, y in pts], w, d) for pts, w, d in strokes]]


def fabric_stroke_strength(color: RGB) -> float:
    """Folds show less on dark fabric, where multiply has little left to darken."""
    return 1.0 if luminance(color) > 0.5 else 1.6


def light_from_top(size: int, strength: int) -> Image.Image:
    """L layer: a little darker towards the bottom, like a soft key light above."""
    return vertical_ramp((size, size)).point(lambda v: 255 - round(v * strength / 255))


def cylinder_profile(dark: float, highlight_at: float = 0.3) -> Callable[[float], float]:
    """Lighting across a cylinder seen from the front: darker towards both edges."""

    def shade(t: float) -> float:
        angle = (t - 0.5) * math.pi
        lit = max(0.0, math.cos(angle - (highlight_at - 0.5) * 0.6)) ** 0.6
        return 255 * (1 - dark + dark * lit)

    return shade


def weave(size: int, strength: int) -> Image.Image:
    """L layer: a faint canvas/fabric grain (255 = unchanged)."""
    return Image.effect_noise((size, size), 40).point(lambda v: 255 - round(abs(v - 128) / 128 * strength))


def soften(shade: Image.Image, keep: float) -> Image.Image:
    """Shading with only `keep` (0..1) of its darkness, for a print lying on the surface."""
    return shade.point(lambda v: round(255 - (255 - v) * keep))


def as_rgb(layer: Image.Image) -> Image.Image:
    """An L layer as RGB, for multiplying into or screening onto a colour image."""
    return Image.merge("RGB", (layer, layer, layer))


def shaded_fill(size: int, color: RGB, shade: Image.Image) -> Image.Image:
    """A canvas-sized fill of `color` with the shading multiplied in."""
    return ImageChops.multiply(Image.new("RGB", (size, size), color), as_rgb(shade))


def diagonal_gloss(box: Box, strength: int, at: float = 0.3, width: float = 0.22) -> Image.Image:
    """RGB, box-sized: a soft band of light across the print, top left to bottom right."""
    w, h = box[2] - box[0], box[3] - box[1]
    side = int(math.hypot(w, h)) + 2
    band = horizontal_profile((side, side), lambda t: strength * math.exp(-((t - at) / width) ** 2))
    band = band.rotate(-35, resample=Image.Resampling.BILINEAR, expand=False)
    left, top = (side - w) // 2, (side - h) // 2
    return as_rgb(band.crop((left, top, left + w, top + h)))
