"""Sizes and boxes in canvas pixels, and the measures several layers share."""

from __future__ import annotations

Size = tuple[int, int]
Box = tuple[int, int, int, int]


def centre(box: Box) -> tuple[int, int]:
    """The centre of `box`, rounded down to whole pixels."""
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2


def circle_box(x: float, y: float, r: float) -> tuple[float, float, float, float]:
    """The bounding box ImageDraw wants for a circle of radius `r` centred on (x, y)."""
    return x - r, y - r, x + r, y + r


def inset_box(size: Size, inset: float) -> tuple[float, float, float, float]:
    """The box `inset` px inside the edges of an image of `size` (inclusive corners)."""
    return inset, inset, size[0] - 1 - inset, size[1] - 1 - inset


def reduced(size: Size, factor: int, minimum: int) -> Size:
    """`size` divided by `factor`, rounded down, each side at least `minimum`."""
    return max(minimum, size[0] // factor), max(minimum, size[1] // factor)


def pixel_size(size: Size) -> int:
    """The side, in canvas pixels, of one pixel-art 'pixel' on a canvas of `size`."""
    return max(2, round(min(size) / 110))
