"""Background treatments, one function each, and the table that names them.

A background fills the whole canvas from the scheme; `focus` is the emblem's centre, for
treatments that radiate from it or put a horizon under it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from core.generators.draft_art.geometry import Size, circle_box, inset_box, pixel_size, reduced
from core.generators.draft_art.palette import Scheme
from core.imaging.colour import BLACK, WHITE, luminance, mix
from core.imaging.gradients import radial_gradient, vertical_gradient, vertical_ramp
from core.imaging.masks import blurred, faded

Background = Callable[[Size, Scheme, random.Random, tuple[int, int]], Image.Image]


def _gradient(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    return vertical_gradient(size, scheme.ground, scheme.ground_far)


def _sunburst(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    canvas = vertical_gradient(size, scheme.ground, mix(scheme.ground, scheme.accents[0], 0.12))
    rays = Image.new("L", size, 0)
    draw = ImageDraw.Draw(rays)
    count = rng.choice((16, 20, 24, 28))
    reach = math.hypot(*size)
    start = rng.uniform(0, 360 / count)
    for i in range(0, count, 2):
        a0 = start + i * 360 / count
        draw.pieslice(circle_box(focus[0], focus[1], reach), a0, a0 + 360 / count, fill=255)
    fade = radial_gradient(size, WHITE, (60, 60, 60), (focus[0] / size[0], focus[1] / size[1]), 0.75).convert("L")
    canvas.paste(mix(scheme.ground, scheme.accents[0], 0.35), (0, 0), faded(ImageChops.multiply(fade, rays), 0.55))
    return canvas


def _halftone(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    canvas = vertical_gradient(size, scheme.ground, mix(scheme.ground, scheme.accents[1], 0.18))
    dots = Image.new("L", size, 0)
    draw = ImageDraw.Draw(dots)
    step = max(6, round(min(w, h) / 42))
    for row, y in enumerate(range(round(h * 0.35), h + step, step)):
        r = step * 0.48 * (max(0.0, y - h * 0.35) / (h * 0.65)) ** 1.3
        if r < 0.8:
            continue
        for x in range((row % 2) * step // 2, w + step, step):
            draw.ellipse(circle_box(x, y, r), fill=255)
    canvas.paste(mix(scheme.ground, scheme.accents[0], 0.55), (0, 0), dots)
    _draw_corner_frame(canvas, scheme)
    return canvas


def _draw_corner_frame(canvas: Image.Image, scheme: Scheme) -> None:
    side = min(canvas.size)
    ImageDraw.Draw(canvas).rectangle(
        inset_box(canvas.size, round(side * 0.03)), outline=scheme.ink, width=max(2, round(side / 160))
    )


def _dots(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    canvas = Image.new("RGB", size, scheme.ground)
    draw = ImageDraw.Draw(canvas)
    step = max(8, round(min(w, h) / 16))
    r = max(1, step // 9)
    colour = mix(scheme.ground, scheme.accents[2], 0.35)
    for row, y in enumerate(range(step // 2, h, step)):
        for x in range((row % 2) * step // 2, w + step, step):
            draw.ellipse(circle_box(x, y, r), fill=colour)
    return canvas


def _washes(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    small = reduced(size, 8, 8)
    layer = Image.new("RGB", small, scheme.ground)
    for i in range(7):
        colour = scheme.accents[i % 3]
        blob = Image.new("L", small, 0)
        cx, cy = rng.uniform(-0.1, 1.1) * small[0], rng.uniform(-0.1, 1.1) * small[1]
        rx, ry = rng.uniform(0.2, 0.45) * small[0], rng.uniform(0.12, 0.3) * small[1]
        ImageDraw.Draw(blob).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=round(255 * rng.uniform(0.18, 0.32)))
        layer.paste(colour, (0, 0), blob.filter(ImageFilter.GaussianBlur(min(small) / 14)))
    return layer.resize(size, Image.Resampling.BICUBIC)


def _frame(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    canvas = Image.new("RGB", size, scheme.ground)
    draw = ImageDraw.Draw(canvas)
    inset = round(min(size) * 0.035)
    line = max(1, round(min(size) / 500))
    draw.rectangle(inset_box(size, inset), outline=scheme.ink, width=line * 2)
    draw.rectangle(inset_box(size, inset + line * 6), outline=mix(scheme.ink, scheme.ground, 0.5), width=line)
    return canvas


def _pixels(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    small = reduced(size, pixel_size(size), 4)
    sky = Image.new("RGB", small, scheme.ground)
    draw = ImageDraw.Draw(sky)
    bands = 6
    for i in range(1, bands):
        colour = mix(scheme.ground, scheme.accents[0], i * 0.07)
        top = round(small[1] * (0.45 + i * 0.09))
        draw.rectangle((0, top, small[0], small[1]), fill=colour)
        for x in range(i % 2, small[0], 2):  # a dithered seam between bands
            draw.point((x, top - 1), fill=colour)
    for _ in range(small[0] * small[1] // 90):
        x, y = rng.randrange(small[0]), rng.randrange(round(small[1] * 0.6))
        draw.point((x, y), fill=mix(scheme.ground, scheme.ink, rng.choice((0.35, 0.6, 0.9))))
    return sky.resize(size, Image.Resampling.NEAREST)


def _neon_grid(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    horizon = min(h - 1, focus[1] + round(min(w, h) * 0.12))
    canvas = vertical_gradient(size, scheme.ground, mix(scheme.ground, scheme.accents[2], 0.55))
    floor = mix(scheme.ground, BLACK, 0.35)
    canvas.paste(floor, (0, horizon, w, h))
    lines = Image.new("L", size, 0)
    draw = ImageDraw.Draw(lines)
    width = max(1, round(min(w, h) / 330))
    vanish_x = w // 2
    for i in range(-14, 15):
        draw.line((vanish_x + i * w * 0.04, horizon, vanish_x + i * w * 0.32, h), fill=255, width=width)
    y, step = float(horizon), max(2.0, h * 0.008)
    while y < h:
        draw.line((0, y, w, y), fill=255, width=width)
        y, step = y + step, step * 1.35
    colour = scheme.accents[0]
    canvas.paste(colour, (0, 0), faded(blurred(lines, min(w, h) / 90), 0.9))
    canvas.paste(mix(colour, WHITE, 0.35), (0, 0), lines)
    _draw_stars(canvas, scheme, rng, horizon)
    return canvas


def _draw_stars(canvas: Image.Image, scheme: Scheme, rng: random.Random, horizon: int) -> None:
    draw = ImageDraw.Draw(canvas)
    w = canvas.width
    for _ in range(60):
        x, y = rng.uniform(0, w), rng.uniform(0, horizon * 0.9)
        r = rng.choice((1, 1, 2, 3)) * max(1, w // 700)
        draw.ellipse(circle_box(x, y, r), fill=mix(scheme.ground, scheme.ink, rng.uniform(0.4, 0.9)))


def _seigaiha(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    canvas = Image.new("RGB", size, scheme.ground)
    waves = Image.new("L", size, 0)
    draw = ImageDraw.Draw(waves)
    r = max(8, round(w / 9))
    ring = max(1, r // 9)
    top = round(h * 0.5)
    for row, y in enumerate(range(top, h + r, r // 2)):
        for x in range(-(row % 2) * r, w + r, 2 * r):
            for k in range(4):
                # filled first so each scale hides the ones behind it
                draw.ellipse(circle_box(x, y, r - k * (r / 4)), fill=0, outline=255, width=ring)
    fade = vertical_ramp(size)  # stronger towards the bottom
    canvas.paste(mix(scheme.ground, scheme.accents[0], 0.5), (0, 0), ImageChops.multiply(waves, fade))
    return canvas


def _waves(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    canvas = Image.new("RGB", size, scheme.ground)
    draw = ImageDraw.Draw(canvas)
    stripe = round(min(w, h) * 0.06)
    colours = [scheme.accents[2], scheme.accents[1], scheme.accents[0], mix(scheme.accents[0], scheme.ink, 0.45)]
    amplitude = min(w, h) * rng.uniform(0.035, 0.06)
    phase = rng.uniform(0, math.tau)
    wavelength = w * rng.uniform(0.7, 1.1)
    base = focus[1] - stripe * 1.5
    xs = [w * i / 64 for i in range(65)]
    # stripes bottom-up in reverse so each one sits on the next
    for i, colour in reversed(list(enumerate(colours))):
        top = [(x, base + i * stripe + amplitude * math.sin(phase + math.tau * x / wavelength)) for x in xs]
        bottom = [(x, y + stripe) for x, y in reversed(top)]
        draw.polygon(top + bottom, fill=colour)
    return canvas


def _studio(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    light = mix(scheme.ground, scheme.paper, 0.35) if luminance(scheme.ground) < 0.5 else mix(scheme.ground, WHITE, 0.6)
    edge = mix(scheme.ground, BLACK, 0.15)
    return radial_gradient(size, light, edge, (focus[0] / w, focus[1] / h), 0.75)


def _spray(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    """A dark brick wall with soft spray-paint clouds and their spatter."""
    w, h = size
    small = reduced(size, 6, 8)
    wall = Image.new("RGB", small, scheme.ground)
    clouds = [(rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.12, 0.25)) for _ in range(5)]
    for i, (fx, fy, fr) in enumerate(clouds):
        blob = Image.new("L", small, 0)
        r = fr * min(small)
        ImageDraw.Draw(blob).ellipse(circle_box(fx * small[0], fy * small[1], r), fill=170)
        wall.paste(scheme.accents[i % 3], (0, 0), blob.filter(ImageFilter.GaussianBlur(r / 2)))
    canvas = wall.resize(size, Image.Resampling.BICUBIC)
    _draw_bricks(canvas, scheme)
    draw = ImageDraw.Draw(canvas)
    dot = max(1, round(min(w, h) / 500))
    for i, (fx, fy, fr) in enumerate(clouds):
        for _ in range(90):
            ang, dist = rng.uniform(0, math.tau), fr * min(w, h) * rng.uniform(0.6, 1.5)
            x, y, r = fx * w + math.cos(ang) * dist, fy * h + math.sin(ang) * dist, dot * rng.choice((1, 1, 2, 3))
            draw.ellipse(circle_box(x, y, r), fill=scheme.accents[i % 3])
    return canvas


def _draw_bricks(canvas: Image.Image, scheme: Scheme) -> None:
    w, h = canvas.size
    draw = ImageDraw.Draw(canvas)
    bh = max(6, round(min(w, h) / 18))
    bw = bh * 2
    colour = mix(scheme.ground, BLACK, 0.35)
    width = max(1, bh // 12)
    for row, y in enumerate(range(0, h, bh)):
        draw.line((0, y, w, y), fill=colour, width=width)
        for x in range((row % 2) * bw // 2, w, bw):
            draw.line((x, y, x, y + bh), fill=colour, width=width)


BACKGROUNDS: dict[str, Background] = {
    "gradient": _gradient,
    "sunburst": _sunburst,
    "halftone": _halftone,
    "dots": _dots,
    "washes": _washes,
    "frame": _frame,
    "pixels": _pixels,
    "neon-grid": _neon_grid,
    "seigaiha": _seigaiha,
    "waves": _waves,
    "studio": _studio,
    "spray": _spray,
}
