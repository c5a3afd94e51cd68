"""The two emblem outlines, a circle and an arch: as filled masks and as rings."""

from __future__ import annotations

from PIL import Image, ImageChops, ImageDraw

from core.generators.draft_art.geometry import Size, inset_box
from core.imaging.colour import RGB


def shape_mask(size: Size, shape: str, inset: float = 0.0) -> Image.Image:
    """A circle (an ellipse filling `size`) or an arch (round top, square foot), `inset` px in."""
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    left, top, right, bottom = inset_box(size, inset)
    if right - left < 1 or bottom - top < 1:
        return mask
    if shape == "arch":  # drawn as two pieces: Pillow's rounded_rectangle trips on a full-width radius
        draw.ellipse((left, top, right, top + (right - left)), fill=255)
        draw.rectangle((left, top + (right - left) / 2, right, bottom), fill=255)
    else:
        draw.ellipse((left, top, right, bottom), fill=255)
    return mask


def draw_ring(img: Image.Image, shape: str, inset: float, width: int, colour: RGB | int) -> None:
    """An outline `width` px wide, `inset` px inside the edge of the shape."""
    if shape == "circle":
        ImageDraw.Draw(img).ellipse(inset_box(img.size, inset), outline=colour, width=width)
        return
    ring = ImageChops.subtract(shape_mask(img.size, shape, inset), shape_mask(img.size, shape, inset + width))
    img.paste(colour, (0, 0), ring)
