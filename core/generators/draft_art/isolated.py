"""The isolated subject: what a prompt asking for 'a subject on a plain background' gets, and
what the print file's background removal then cuts out, as it will from a model's image.

The subject (the style's emblem) sits centred on one flat colour, with space around it. When
the product's colour is known, the subject is kept visible on it (a design the preflight's
contrast check passes), and the flat colour takes the product's tone so the subject stands
out from it as well.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.generators.draft_art.geometry import Box
from core.generators.draft_art.layout import Layout
from core.generators.draft_art.palette import Scheme
from core.generators.draft_art.shapes import shape_mask
from core.imaging.colour import BLACK, RGB, WHITE, luminance
from core.imaging.contrast import visible_share

LIGHT_BACKGROUND: RGB = (247, 246, 243)
DARK_BACKGROUND: RGB = (16, 16, 20)
SUBJECT_SHARE = 0.72  # the subject's box: this share of the shorter side, centred
MIN_VISIBLE_SHARE = 0.6  # the subject is recoloured when less of it stands out from the product
RECOLOUR_STEPS = (0.35, 0.6, 0.85)  # how far towards white (or black) each attempt moves it


def asks_for_plain_background(prompt: str) -> bool:
    """Whether the final prompt asks for an isolated subject (the parsers add this for products
    printed without a background)."""
    text = prompt.lower()
    return "plain background" in text or "isolated" in text


def plain_background(base_color: RGB | None) -> RGB:
    """The flat colour behind the subject: light, or dark on a dark product."""
    return DARK_BACKGROUND if base_color is not None and luminance(base_color) < 0.4 else LIGHT_BACKGROUND


def subject_box(width: int, height: int, scale: float = 1.0) -> Box:
    """The subject's square box, centred: SUBJECT_SHARE x `scale` of the shorter side (a look
    whose finish reaches past the emblem, such as a die-cut border, draws it smaller)."""
    side = round(min(width, height) * SUBJECT_SHARE * scale)
    x0, y0 = (width - side) // 2, (height - side) // 2
    return x0, y0, x0 + side, y0 + side


def draw_silhouette(canvas: Image.Image, layout: Layout, scheme: Scheme) -> None:
    """The subject's outline filled with the scheme's ground, under the emblem: one solid
    silhouette, so an emblem of lines has no background-coloured holes inside it (which the
    cutout keeps, since they do not reach the border)."""
    x0, y0, x1, y1 = layout.emblem
    canvas.paste(scheme.ground, (x0, y0), shape_mask((x1 - x0, y1 - y0), layout.shape))


def keep_visible(canvas: Image.Image, background: RGB, base_color: RGB) -> Image.Image:
    """The canvas with its subject (every pixel not the background colour) moved towards white
    on a dark product, or black on a light one, until most of it stands out from the product."""
    rgb = np.asarray(canvas, dtype=np.float64)
    subject = np.any(np.abs(rgb - np.array(background)) > 2, axis=2)
    pixels = rgb[subject]
    if not len(pixels):
        return canvas
    weight = np.ones(len(pixels))
    if visible_share(pixels, weight, base_color) >= MIN_VISIBLE_SHARE:
        return canvas
    target = np.array(WHITE if luminance(base_color) < 0.4 else BLACK, dtype=np.float64)
    for step in RECOLOUR_STEPS:
        moved = pixels + (target - pixels) * step
        if visible_share(moved, weight, base_color) >= MIN_VISIBLE_SHARE:
            break
    out = rgb.copy()
    out[subject] = moved
    return Image.fromarray(np.round(out).astype(np.uint8), mode="RGB")



