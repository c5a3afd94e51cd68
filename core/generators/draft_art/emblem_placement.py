"""Putting a painted emblem on the canvas: painted supersampled (or coarse, for pixel art),
then pasted once with the style's finish, or tiled as a pattern."""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from core.generators.draft_art.emblems import Painter
from core.generators.draft_art.geometry import Size, pixel_size, reduced
from core.generators.draft_art.layout import Layout
from core.generators.draft_art.looks import Look
from core.generators.draft_art.palette import Scheme
from core.imaging.colour import BLACK, WHITE, mix
from core.imaging.masks import blurred, faded, grown

SUPERSAMPLE = 2  # emblems are drawn at 2x and reduced: ImageDraw does not anti-alias shapes


def draw_emblem(
    canvas: Image.Image, layout: Layout, painter: Painter, look: Look, scheme: Scheme, rng: random.Random
) -> None:
    """One emblem in the layout's emblem box, with the look's finish."""
    x0, y0, x1, y1 = layout.emblem
    size = (x1 - x0, y1 - y0)
    img, mask = _paint(painter, size, layout.shape, look, scheme, rng)
    _apply_finish(canvas, (x0, y0), img, mask, look, scheme, rng)


def draw_pattern(canvas: Image.Image, painter: Painter, look: Look, scheme: Scheme, rng: random.Random) -> None:
    """Small circular emblems tiled over the whole canvas in staggered rows (no finish)."""
    w, h = canvas.size
    tile = max(16, round(min(w, h) / 4.2))
    img, mask = _paint(painter, (tile, tile), "circle", look, scheme, rng)
    gap = round(tile * 1.45)
    for row, y in enumerate(range(-tile // 3, h, gap)):
        for x in range(-tile // 3 + (row % 2) * gap // 2, w, gap):
            canvas.paste(img, (x, y), mask)


def _paint(
    painter: Painter, size: Size, shape: str, look: Look, scheme: Scheme, rng: random.Random
) -> tuple[Image.Image, Image.Image]:
    """Run a painter supersampled (smooth edges) or, for pixel art, coarse and blown up."""
    if look.finish == "pixelate":
        img, mask = painter(reduced(size, pixel_size(size) * 2, 8), shape, scheme, rng)
        hard_mask = mask.point(lambda v: 255 if v > 127 else 0)
        return img.resize(size, Image.Resampling.NEAREST), hard_mask.resize(size, Image.Resampling.NEAREST)
    big = (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE)
    img, mask = painter(big, shape, scheme, rng)
    return img.resize(size, Image.Resampling.BOX), mask.resize(size, Image.Resampling.BOX)


def _apply_finish(
    canvas: Image.Image,
    at: tuple[int, int],
    img: Image.Image,
    mask: Image.Image,
    look: Look,
    scheme: Scheme,
    rng: random.Random,
) -> None:
    """Paste an emblem with the style's finish: shadow, glow, die-cut outline, drips, wash."""
    w, h = img.size
    pad = round(max(w, h) * 0.12)
    padded = Image.new("L", (w + 2 * pad, h + 2 * pad), 0)
    padded.paste(mask, (pad, pad))
    origin = (at[0] - pad, at[1] - pad)
    unit = max(2, round(w * 0.025))
    if look.finish in ("shadow", "pixelate"):
        canvas.paste(mix(scheme.ground, scheme.ink, 0.7), (origin[0] + unit, origin[1] + unit), faded(padded, 0.85))
    elif look.finish == "glow":
        canvas.paste(scheme.accents[0], origin, faded(blurred(padded, w * 0.06), 0.95))
    elif look.finish == "die-cut":
        outline = grown(padded, w * 0.06)
        canvas.paste(
            mix(scheme.ground, BLACK, 0.3),
            (origin[0] + unit, origin[1] + unit * 2),
            faded(blurred(outline, unit * 2), 0.6),
        )
        canvas.paste(WHITE, origin, outline)
    elif look.finish == "drips":
        _draw_drips(canvas, at, (w, h), scheme, rng)
        canvas.paste(scheme.ink, origin, grown(padded, w * 0.035))
    elif look.finish == "wash":  # paint bleeding into the paper around the emblem
        canvas.paste(scheme.accents[0], origin, faded(blurred(grown(padded, w * 0.03), w * 0.05), 0.35))
        mask = faded(mask, 0.92)
    canvas.paste(img, at, mask)


def _draw_drips(canvas: Image.Image, at: tuple[int, int], size: Size, scheme: Scheme, rng: random.Random) -> None:
    draw = ImageDraw.Draw(canvas)
    w, h = size
    for _ in range(rng.randint(4, 7)):
        x = at[0] + w * rng.uniform(0.2, 0.8)
        top = at[1] + h * 0.7
        length = h * rng.uniform(0.3, 0.42)
        thick = w * rng.uniform(0.018, 0.035)
        colour = rng.choice(scheme.accents)
        draw.rounded_rectangle((x - thick, top, x + thick, top + length), radius=thick, fill=colour)
        draw.ellipse((x - thick * 1.5, top + length - thick * 2, x + thick * 1.5, top + length + thick), fill=colour)
