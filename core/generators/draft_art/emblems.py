"""Emblem painters, one per motif, and the table that names them.

A painter draws an emblem filling `size` (within the layout's shape, a circle or an arch)
and returns its colours and its coverage mask; emblem_placement.py sizes and pastes it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from functools import partial

from PIL import Image, ImageDraw

from core.generators.draft_art.geometry import Size, circle_box
from core.generators.draft_art.palette import Scheme
from core.generators.draft_art.shapes import draw_ring, shape_mask
from core.imaging.colour import BLACK, RGB, WHITE, mix, vividness
from core.imaging.gradients import radial_gradient, vertical_gradient
from core.imaging.masks import blurred

Painter = Callable[[Size, str, Scheme, random.Random], tuple[Image.Image, Image.Image]]


def _landscape(
    size: Size, shape: str, scheme: Scheme, rng: random.Random, ridge: str
) -> tuple[Image.Image, Image.Image]:
    """A sun over three ridges ('peaks' jagged, 'hills' rolling, 'fuji' behind a snow-capped cone)."""
    w, h = size
    a = _accents(scheme, rng)
    a.append(a.pop(a.index(max(a, key=vividness))))  # the sun takes the most vivid accent
    sky_top, sky_bottom = mix(a[1], scheme.paper, 0.45), mix(a[0], scheme.paper, 0.55)
    img = vertical_gradient(size, sky_top, sky_bottom)
    draw = ImageDraw.Draw(img)
    sun_r = w * rng.uniform(0.13, 0.19)
    sun_x, sun_y = w * rng.choice((0.33, 0.5, 0.67)), h * rng.uniform(0.3, 0.4)
    draw.ellipse(circle_box(sun_x, sun_y, sun_r * 1.35), fill=mix(sky_bottom, scheme.paper, 0.5))
    draw.ellipse(circle_box(sun_x, sun_y, sun_r), fill=mix(a[2], scheme.paper, 0.1))
    if ridge == "fuji":
        _draw_fuji(draw, size, scheme)
    for i in range(3):
        colour = mix(mix(a[0], scheme.ink, 0.15 + 0.32 * i), sky_bottom, 0.45 * (2 - i) / 2)
        base = h * (0.6 + 0.13 * i)
        jagged = ridge == "peaks" and i < 2
        draw.polygon(_ridge(w, base, h * (0.2 - 0.04 * i), rng, jagged) + [(w + 1, h + 1), (-1, h + 1)], fill=colour)
    _draw_birds(draw, size, scheme, rng)
    _badge_rings(img, shape, scheme)
    return img, shape_mask(size, shape)


def _draw_fuji(draw: ImageDraw.ImageDraw, size: Size, scheme: Scheme) -> None:
    w, h = size
    peak, foot = h * 0.28, h * 0.72
    draw.polygon(
        [(w * 0.04, foot), (w * 0.42, peak), (w * 0.58, peak), (w * 0.96, foot)],
        fill=mix(scheme.accents[0], scheme.ink, 0.35),
    )
    cap = [(w * 0.33, h * 0.4), (w * 0.42, peak), (w * 0.58, peak), (w * 0.67, h * 0.4)]
    teeth = [(w * (0.62 - 0.05 * i), h * (0.43 if i % 2 == 0 else 0.38)) for i in range(6)]
    draw.polygon(cap + teeth, fill=scheme.paper)


def _draw_birds(draw: ImageDraw.ImageDraw, size: Size, scheme: Scheme, rng: random.Random) -> None:
    w, h = size
    line = max(1, round(w / 120))
    for _ in range(rng.randint(0, 3)):
        x, y, s = rng.uniform(0.25, 0.7) * w, rng.uniform(0.18, 0.3) * h, w * rng.uniform(0.02, 0.035)
        draw.line([(x - s, y - s * 0.4), (x, y), (x + s, y - s * 0.4)], fill=scheme.ink, width=line, joint="curve")


def _sunset(size: Size, shape: str, scheme: Scheme, rng: random.Random, floor: str) -> tuple[Image.Image, Image.Image]:
    """A striped retro sun on the horizon, over a 'sea' with its reflection or a neon 'grid' floor."""
    w, h = size
    a = list(scheme.accents)
    horizon = round(h * rng.uniform(0.6, 0.66))
    if floor == "grid":
        img = vertical_gradient(size, scheme.ground, mix(a[2], scheme.ground, 0.3))
    else:
        img = vertical_gradient(size, mix(scheme.ground_far, a[1], 0.5), mix(a[0], scheme.paper, 0.3))
    sun_r = w * rng.uniform(0.27, 0.33)
    sun_box = (round(w / 2 - sun_r), round(horizon - sun_r * 1.15), round(w / 2 + sun_r), round(horizon + sun_r * 0.85))
    sun_size = (sun_box[2] - sun_box[0], sun_box[3] - sun_box[1])
    sun_top, sun_bottom = (a[2], a[0]) if floor == "sea" else (a[0], a[2])
    sun = vertical_gradient(sun_size, mix(sun_top, scheme.paper, 0.15), sun_bottom)
    sun_mask = shape_mask(sun_size, "circle")
    cut = ImageDraw.Draw(sun_mask)
    gaps = rng.randint(4, 6)
    for i in range(gaps):  # retro stripes cut out of the sun, thicker towards the bottom
        y = sun_size[1] * (0.56 - 0.3 * i / gaps)
        cut.rectangle((0, y, sun_size[0], y + sun_size[1] * 0.05 * (1 - i / gaps)), fill=0)
    img.paste(sun, sun_box[:2], sun_mask)
    draw = ImageDraw.Draw(img)
    floor_colour = mix(scheme.ground, scheme.ink, 0.15) if floor == "grid" else mix(a[1], scheme.ink, 0.35)
    draw.rectangle((0, horizon, w, h), fill=floor_colour)
    if floor == "grid":
        _draw_floor_grid(draw, size, horizon, a[1])
    else:
        _draw_reflection(draw, size, horizon, sun_r, mix(a[2], scheme.paper, 0.2), rng)
    _badge_rings(img, shape, scheme)
    return img, shape_mask(size, shape)


def _draw_floor_grid(draw: ImageDraw.ImageDraw, size: Size, horizon: int, colour: RGB) -> None:
    w, h = size
    width = max(1, round(w / 200))
    for i in range(-8, 9):
        draw.line((w / 2 + i * w * 0.05, horizon, w / 2 + i * w * 0.3, h), fill=colour, width=width)
    y, step = float(horizon), h * 0.02
    while y < h:
        draw.line((0, y, w, y), fill=colour, width=width)
        y, step = y + step, step * 1.4


def _draw_reflection(
    draw: ImageDraw.ImageDraw, size: Size, horizon: int, sun_r: float, colour: RGB, rng: random.Random
) -> None:
    w, h = size
    y, thick = horizon + h * 0.03, h * 0.018
    half = sun_r * 0.9
    while y < h and half > w * 0.03:
        shift = rng.uniform(-0.04, 0.04) * w
        draw.rounded_rectangle(
            (w / 2 - half + shift, y, w / 2 + half + shift, y + thick), radius=thick / 2, fill=colour
        )
        y, half = y + thick * 2.2, half * 0.72


def _burst(size: Size, shape: str, scheme: Scheme, rng: random.Random) -> tuple[Image.Image, Image.Image]:
    """A starburst badge: concentric rings and polygons with sparkles (ignores the layout's shape)."""
    w, h = size
    cx, cy, radius = w / 2, h / 2, min(w, h) / 2 - 1
    points = rng.choice((12, 14, 16, 18, 20))
    inner = rng.uniform(0.8, 0.88)
    turn = rng.uniform(0, math.pi)
    star = [
        (
            cx + math.cos(turn + math.pi * i / points) * radius * (1 if i % 2 == 0 else inner),
            cy + math.sin(turn + math.pi * i / points) * radius * (1 if i % 2 == 0 else inner),
        )
        for i in range(points * 2)
    ]
    a = _accents(scheme, rng)
    img = Image.new("RGB", size, a[0])
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).polygon(star, fill=255)
    draw = ImageDraw.Draw(img)
    draw.polygon(star, outline=scheme.ink, width=max(2, round(w * 0.035)))
    colours = [scheme.paper, a[1], a[2], scheme.ink, a[0]]
    sides = rng.choice((0, 3, 4, 5, 6, 8))
    for k, share in enumerate((0.74, 0.62, 0.5, 0.4, 0.3)):
        r = radius * share
        if sides and k % 2:
            draw.regular_polygon((cx, cy, r), sides, rotation=rng.uniform(0, 90), fill=colours[k])
        else:
            draw.ellipse(circle_box(cx, cy, r), fill=colours[k])
    _draw_sparkle(draw, (cx, cy), radius * 0.22, scheme.paper)
    for _ in range(rng.randint(2, 4)):
        ang, dist = rng.uniform(0, math.tau), radius * rng.uniform(0.5, 0.64)
        _draw_sparkle(
            draw, (cx + math.cos(ang) * dist, cy + math.sin(ang) * dist), radius * rng.uniform(0.04, 0.07), scheme.paper
        )
    return img, mask


def _draw_sparkle(draw: ImageDraw.ImageDraw, centre: tuple[float, float], r: float, colour: RGB) -> None:
    x, y = centre
    t = r * 0.22
    draw.polygon(
        [
            (x, y - r),
            (x + t, y - t),
            (x + r, y),
            (x + t, y + t),
            (x, y + r),
            (x - t, y + t),
            (x - r, y),
            (x - t, y - t),
        ],
        fill=colour,
    )


def _orbs(size: Size, shape: str, scheme: Scheme, rng: random.Random) -> tuple[Image.Image, Image.Image]:
    """Three shaded spheres resting on a soft floor shadow (ignores the layout's shape)."""
    w, h = size
    a = _accents(scheme, rng)
    shadow_colour = mix(scheme.ground, BLACK, 0.45)
    img = Image.new("RGB", size, shadow_colour)
    mask = Image.new("L", size, 0)
    floor_y = h * 0.86
    ImageDraw.Draw(mask).ellipse((w * 0.1, floor_y - h * 0.06, w * 0.9, floor_y + h * 0.06), fill=150)
    mask = blurred(mask, w * 0.05)
    big = w * rng.uniform(0.25, 0.3)
    spheres = [
        (w * 0.5 + rng.uniform(-0.06, 0.06) * w, floor_y - big, big, a[0]),
        (w * 0.5 + big * 1.05, floor_y - big * 0.55, big * 0.55, a[1]),
        (w * 0.5 - big * 1.0, floor_y - big * 0.4, big * 0.4, a[2]),
    ]
    for x, y, r, colour in sorted(spheres, key=lambda s: s[1] + s[2]):
        box = (round(x - r), round(y - r), round(x + r), round(y + r))
        ball = (box[2] - box[0], box[3] - box[1])
        shaded = radial_gradient(ball, mix(colour, WHITE, 0.55), mix(colour, BLACK, 0.45), (0.33, 0.3), 0.85)
        circle = shape_mask(ball, "circle")
        img.paste(shaded, box[:2], circle)
        mask.paste(255, box[:2], circle)
    return img, mask


def _line(size: Size, shape: str, scheme: Scheme, rng: random.Random) -> tuple[Image.Image, Image.Image]:
    """Single-weight ink drawing: ring, sun, one continuous ridge, water lines."""
    w, h = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    line = max(1, round(w / 90))
    draw_ring(mask, shape, line, line, 255)
    sun_r, sun_x = w * rng.uniform(0.1, 0.14), w * rng.choice((0.35, 0.62))
    draw.ellipse(circle_box(sun_x, h * 0.36, sun_r), outline=255, width=line)
    ridge = _ridge(w, h * 0.66, h * 0.26, rng, jagged=True)
    draw.line([(max(0.0, x), y) for x, y in ridge if x <= w], fill=255, width=line, joint="curve")
    for i in range(3):
        half = w * (0.3 - 0.08 * i)
        y = h * (0.74 + 0.06 * i)
        draw.line((w / 2 - half, y, w / 2 + half, y), fill=255, width=line)
    mask = Image.composite(mask, Image.new("L", size, 0), shape_mask(size, shape))
    return Image.new("RGB", size, scheme.ink), mask


# --- pieces several painters share --------------------------------------------------------
def _accents(scheme: Scheme, rng: random.Random) -> list[RGB]:
    """The scheme's accents, the first two swapped half the time."""
    order = list(scheme.accents)
    if rng.random() < 0.5:
        order[0], order[1] = order[1], order[0]
    return order


def _badge_rings(img: Image.Image, shape: str, scheme: Scheme) -> None:
    w = img.width
    draw_ring(img, shape, 0, max(2, round(w * 0.045)), scheme.ink)
    draw_ring(img, shape, w * 0.062, max(1, round(w * 0.01)), scheme.paper)


def _ridge(w: int, base: float, amplitude: float, rng: random.Random, jagged: bool) -> list[tuple[float, float]]:
    """The top edge of a mountain range `w` wide: sharp peaks if `jagged`, else rolling hills."""
    if jagged:
        count = rng.randint(3, 5)
        xs = [(i + 0.5 + rng.uniform(-0.3, 0.3)) * w / count for i in range(count)]  # spread: no slivers
        points = [(-1.0, base)]
        for i, x in enumerate(xs):
            points.append((x, base - amplitude * rng.uniform(0.55, 1.0)))
            after = xs[i + 1] if i + 1 < count else w + 1
            points.append(((x + after) / 2, base - amplitude * rng.uniform(0.0, 0.3)))
        return points + [(w + 1.0, base)]
    phase, freq = rng.uniform(0, math.tau), rng.uniform(1.2, 2.2)
    return [
        (w * i / 48, base - amplitude * (0.55 + 0.45 * math.sin(phase + freq * math.tau * i / 48))) for i in range(49)
    ]


EMBLEMS: dict[str, Painter] = {
    "peaks": partial(_landscape, ridge="peaks"),
    "hills": partial(_landscape, ridge="hills"),
    "fuji": partial(_landscape, ridge="fuji"),
    "sunset-sea": partial(_sunset, floor="sea"),
    "sunset-grid": partial(_sunset, floor="grid"),
    "burst": _burst,
    "orbs": _orbs,
    "line": _line,
}
