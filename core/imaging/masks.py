"""Operations on greyscale ("L") masks: a wide blur, growing, fading, and the shadow a shape casts."""

from __future__ import annotations

from PIL import Image, ImageChops, ImageFilter


def blurred(mask: Image.Image, radius: float, full_size_below: float = 0.0) -> Image.Image:
    """`mask` blurred by about `radius` px.

    Cheaply, by default: a quarter-size copy is blurred and scaled back. A blur narrower than
    `full_size_below` px is done at full size instead, where a quarter-size copy would show
    its coarse pixels (small mockup shadows)."""
    if radius < full_size_below:
        return mask.filter(ImageFilter.GaussianBlur(radius))
    quarter = (max(1, mask.width // 4), max(1, mask.height // 4))
    small = mask.resize(quarter, Image.Resampling.BILINEAR)
    return small.filter(ImageFilter.GaussianBlur(max(0.5, radius / 4))).resize(mask.size, Image.Resampling.BILINEAR)


def grown(mask: Image.Image, pixels: float) -> Image.Image:
    """The mask dilated by about `pixels`, with soft-but-solid edges."""
    # a blur's faint tail reaches ~1.5 sigma out: cut it there, with a steep (smooth) ramp
    return blurred(mask, pixels / 1.5).point(lambda v: max(0, min(255, (v - 12) * 48)))


def faded(mask: Image.Image, opacity: float) -> Image.Image:
    """The mask with every value scaled by `opacity` (0 to 1)."""
    return mask.point(lambda v: round(v * opacity))


def cast_shadow(
    shape: Image.Image, offset: tuple[float, float], radius: float, opacity: float, full_size_below: float = 0.0
) -> Image.Image:
    """The shadow a shape casts: its mask moved by `offset`, blurred and faded to `opacity` (0..1)."""
    moved = ImageChops.offset(shape, round(offset[0]), round(offset[1]))
    return faded(blurred(moved, radius, full_size_below), opacity)
