"""Operations on greyscale ("L") masks: a cheap wide blur, growing, fading."""

from __future__ import annotations

from PIL import Image, ImageFilter

from core.generators.draft_art.geometry import reduced


def blurred(mask: Image.Image, radius: float) -> Image.Image:
    """`mask` blurred by about `radius` px, cheaply: a quarter-size copy is blurred and scaled back."""
    small = mask.resize(reduced(mask.size, 4, 1), Image.Resampling.BILINEAR)
    return small.filter(ImageFilter.GaussianBlur(max(0.5, radius / 4))).resize(mask.size, Image.Resampling.BILINEAR)


def grown(mask: Image.Image, pixels: float) -> Image.Image:
    """The mask dilated by about `pixels`, with soft-but-solid edges."""
    # a blur's faint tail reaches ~1.5 sigma out: cut it there, with a steep (smooth) ramp
    return blurred(mask, pixels / 1.5).point(lambda v: max(0, min(255, (v - 12) * 48)))


def faded(mask: Image.Image, opacity: float) -> Image.Image:
    """The mask with every value scaled by `opacity` (0 to 1)."""
    return mask.point(lambda v: round(v * opacity))
