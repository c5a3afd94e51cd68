"""The offline draft renderer: a parsed brief drawn as a merch design with Pillow alone.

It is what a designer sees before a GPU worker is configured, so it draws a deliberate
design rather than a placeholder: a background treatment chosen by the style, a seeded
emblem made of shapes, the subject as lettering, and a small DRAFT mark in a corner.
No network, no model, no font required; the same inputs always give the same bytes.
"""

from __future__ import annotations

import colorsys
import io
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from core.parsing.models import ParsedPrompt

RGB = tuple[int, int, int]
Size = tuple[int, int]
Box = tuple[int, int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

MIN_SIDE_PX = 32
MAX_SIDE_PX = 8192
SUPERSAMPLE = 2  # emblems are drawn at 2x and reduced: ImageDraw does not anti-alias shapes
MAX_SUBJECT_WORDS = 9
FALLBACK_PALETTE = ("#264653", "#e76f51", "#f4a261", "#2a9d8f", "#f1faee")
FONT_CANDIDATES = (
    "DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/local/share/fonts/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
)
COLOUR_WORDS = {
    "red": "#e63946",
    "crimson": "#b3123b",
    "scarlet": "#ff2e1f",
    "orange": "#f77f00",
    "amber": "#ffb000",
    "yellow": "#ffd60a",
    "gold": "#d4a017",
    "golden": "#e0b32e",
    "green": "#2a9d3f",
    "lime": "#a7e22e",
    "emerald": "#1f9e6e",
    "teal": "#1a9c9c",
    "turquoise": "#30d5c8",
    "cyan": "#00d4ff",
    "blue": "#1e6fd9",
    "navy": "#1b2a4a",
    "cobalt": "#0047ab",
    "indigo": "#3f2b96",
    "purple": "#7b2cbf",
    "violet": "#8f5cf7",
    "magenta": "#e0218a",
    "pink": "#ff6fae",
    "rose": "#f25c7a",
    "brown": "#7a4a2b",
    "beige": "#e8d8b8",
    "cream": "#f6efdc",
    "black": "#111111",
    "white": "#fafafa",
    "grey": "#8d8d8d",
    "gray": "#8d8d8d",
    "silver": "#c0c0c8",
    "neon": "#39ff14",
}
# mood -> lightness shift applied to every colour of the scheme
MOOD_LIGHTNESS = {
    "dark": -0.14,
    "moody": -0.08,
    "fierce": -0.04,
    "epic": -0.03,
    "joyful": 0.06,
    "playful": 0.05,
    "dreamy": 0.05,
    "calm": 0.03,
}
HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


@dataclass(frozen=True)
class Look:
    """How one style family is drawn; names refer to BACKGROUNDS, EMBLEMS and the finishes below."""

    background: str
    emblems: tuple[str, ...]  # the seed picks one
    lettering: str  # "outline" | "shadow" | "glow" | "sticker" | "pixel" | "plain"
    finish: str = ""  # how the emblem sits: "shadow" | "glow" | "die-cut" | "drips" | "wash" | "pixelate"
    dark_ground: bool = False
    uppercase: bool = True
    emblem_scale: float = 1.0


LOOKS = {
    "anime": Look("sunburst", ("peaks", "burst"), "outline", "shadow"),
    "watercolor": Look("washes", ("hills", "peaks"), "plain", "wash", uppercase=False),
    "vintage-poster": Look("halftone", ("peaks", "sunset-sea"), "shadow", "shadow"),
    "line-art": Look("frame", ("line",), "plain", uppercase=False),
    "pixel-art": Look("pixels", ("peaks", "sunset-sea"), "pixel", "pixelate", dark_ground=True),
    "cyberpunk-neon": Look("neon-grid", ("sunset-grid",), "glow", "glow", dark_ground=True),
    "ukiyo-e": Look("seigaiha", ("fuji",), "shadow"),
    "sticker": Look("dots", ("burst", "sunset-sea"), "sticker", "die-cut", dark_ground=True, emblem_scale=0.84),
    "photoreal": Look("studio", ("orbs",), "plain", dark_ground=True, uppercase=False),
    "3d-render": Look("studio", ("orbs",), "sticker"),
    "graffiti": Look("spray", ("burst",), "sticker", "drips", dark_ground=True),
    "retro-70s": Look("waves", ("sunset-sea", "hills"), "shadow", "shadow", emblem_scale=0.8),
}
DEFAULT_LOOK = Look("gradient", ("peaks", "burst"), "outline", "shadow")


@dataclass(frozen=True)
class Scheme:
    """The palette split into roles."""

    ground: RGB
    ground_far: RGB
    accents: tuple[RGB, RGB, RGB]
    ink: RGB
    paper: RGB


@dataclass(frozen=True)
class Layout:
    """Where the emblem and the lettering go, in canvas pixels."""

    emblem: Box
    text: Box
    shape: str = "circle"  # or "arch"
    banner: bool = False  # lettering on a ribbon across the emblem
    pattern: bool = False  # small emblems tiled, lettering on a band


def render_draft(brief: ParsedPrompt, palette: list[str], width: int, height: int, seed: int) -> bytes:
    """PNG bytes of a width x height design. Deterministic for (brief, palette, size, seed)."""
    _check_inputs(width, height)
    rng = random.Random(seed)
    look = LOOKS.get(brief.style, DEFAULT_LOOK)
    scheme = _scheme(palette, brief.colors, look.dark_ground, brief.mood)
    layout = _layout(width, height, brief.composition, look.emblem_scale)
    # 1. background, centred on the emblem
    canvas = BACKGROUNDS[look.background]((width, height), scheme, rng, _centre(layout.emblem))
    # 2. the emblem (or a pattern of small ones)
    painter = EMBLEMS[rng.choice(look.emblems)]
    if layout.pattern:
        _draw_pattern(canvas, painter, look, scheme, rng)
    else:
        _draw_emblem(canvas, layout, painter, look, scheme, rng)
    # 3. the subject as lettering, then the DRAFT mark
    _draw_title(canvas, _title(brief.subject, look), layout, look, scheme)
    _draw_draft_mark(canvas)
    return _encode(canvas)


def _check_inputs(width: int, height: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, int) or not MIN_SIDE_PX <= value <= MAX_SIDE_PX:
            raise ValueError(f"{name} must be an int between {MIN_SIDE_PX} and {MAX_SIDE_PX}, got {value!r}")


def _encode(canvas: Image.Image) -> bytes:
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=2)
    return buffer.getvalue()


# --- colour ------------------------------------------------------------------------------
def _parse_colour(value: str) -> RGB | None:
    word = value.strip().lower()
    word = COLOUR_WORDS.get(word, word)
    match = HEX_COLOUR.fullmatch(word)
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _luminance(c: RGB) -> float:
    return (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255


def _hls(c: RGB) -> tuple[float, float, float]:
    return colorsys.rgb_to_hls(c[0] / 255, c[1] / 255, c[2] / 255)


def _from_hls(h: float, l: float, s: float) -> RGB:  # noqa: E741 (the usual name)
    r, g, b = colorsys.hls_to_rgb(h, min(1.0, max(0.0, l)), min(1.0, max(0.0, s)))
    return round(r * 255), round(g * 255), round(b * 255)


def _vividness(c: RGB) -> float:
    _, lightness, saturation = _hls(c)
    return saturation * (1 - abs(lightness - 0.5) * 2)


def _is_neutral_extreme(c: RGB) -> bool:
    _, lightness, saturation = _hls(c)
    return (lightness < 0.15 or lightness > 0.85) and saturation < 0.35


def _scheme(palette: list[str], requested: list[str], dark_ground: bool, mood: str | None) -> Scheme:
    """Roles from the style palette: darkest and lightest become ground and ink, the rest
    accents. Chromatic colours the brief asks for take the accent slots; black or white
    asked for becomes the ground; 'pastel', 'monochrome', 'sepia' and the mood recolour."""
    colours = _palette_colours(palette)
    dark, light = min(colours, key=_luminance), max(colours, key=_luminance)
    accents = [c for c in colours if c not in (dark, light)]
    words = [w.strip().lower() for w in requested]
    asked = [c for c in map(_parse_colour, words) if c]
    for neutral in filter(_is_neutral_extreme, asked):
        dark_ground = _luminance(neutral) < 0.5
        dark, light = (neutral, light) if dark_ground else (dark, neutral)
    accents = ([c for c in asked if not _is_neutral_extreme(c)] + accents + [dark, light, _mix(dark, light, 0.5)])[:3]
    if dark_ground and _luminance(dark) > 0.16:  # a palette with no dark colour still needs a dark ground
        dark = _mix(dark, (10, 8, 16), 0.75)
    ground, ink = (dark, light) if dark_ground else (light, dark)
    paper = light if dark_ground else _mix(light, (255, 255, 255), 0.5)
    shift = MOOD_LIGHTNESS.get((mood or "").lower(), 0.0)

    def tone(c: RGB, is_accent: bool = False) -> RGB:
        return _shift_lightness(_treated(c, words, is_accent), shift)

    return Scheme(
        ground=tone(ground),
        ground_far=tone(_mix(ground, accents[0], 0.28)),
        accents=(tone(accents[0], True), tone(accents[1], True), tone(accents[2], True)),
        ink=tone(ink),
        paper=tone(paper),
    )


def _palette_colours(palette: list[str]) -> list[RGB]:
    colours = [c for c in map(_parse_colour, palette) if c]
    if not colours:
        colours = [c for c in map(_parse_colour, FALLBACK_PALETTE) if c]
    while len(colours) < 5:
        colours.append(_mix(colours[len(colours) % len(colours)], (128, 128, 128), 0.35))
    return colours


def _treated(c: RGB, words: list[str], is_accent: bool) -> RGB:
    """Colour words that are treatments rather than colours (pastel softens accents only)."""
    h, l, s = _hls(c)  # noqa: E741
    if "pastel" in words and is_accent:
        l, s = 0.72 + l * 0.15, min(s, 0.65)  # noqa: E741
    if "monochrome" in words:
        s = 0.0
    if "sepia" in words:
        h, s = 0.09, min(s, 0.45)
    return _from_hls(h, l, s)


def _shift_lightness(c: RGB, shift: float) -> RGB:
    if not shift:
        return c
    h, l, s = _hls(c)  # noqa: E741
    return _from_hls(h, l + shift * (1 - l if shift > 0 else l) * 2, s)


# --- layout ------------------------------------------------------------------------------
def _layout(width: int, height: int, composition: str | None, emblem_scale: float = 1.0) -> Layout:
    hint = (composition or "").lower()
    margin = round(min(width, height) * 0.07)
    pattern = any(word in hint for word in ("pattern", "seamless"))
    banner = any(word in hint for word in ("badge", "emblem", "logo", "icon"))
    shape = "arch" if "full body" in hint or "portrait" in hint else "circle"
    if pattern:
        band = round(height * 0.22)
        text = (margin, (height - band) // 2, width - margin, (height + band) // 2)
        return Layout(emblem=(0, 0, width, height), text=text, shape=shape, pattern=True)
    if banner:
        layout = _banner_layout(width, height, margin, shape)
    elif width > height * 1.25:
        layout = _side_by_side_layout(width, height, margin, shape)
    else:
        layout = _stacked_layout(width, height, margin, shape, hint)
    return replace(layout, emblem=_scaled(layout.emblem, emblem_scale))


def _scaled(box: Box, factor: float) -> Box:
    cx, cy = _centre(box)
    hw, hh = round((box[2] - box[0]) * factor / 2), round((box[3] - box[1]) * factor / 2)
    return cx - hw, cy - hh, cx + hw, cy + hh


def _stacked_layout(width: int, height: int, margin: int, shape: str, hint: str) -> Layout:
    """Emblem above lettering, the pair centred vertically (tall canvases leave no gap)."""
    close = "close" in hint
    text_h = round(height * (0.19 if close else 0.25))
    gap = margin // 2
    avail_h = height - 2 * margin - text_h - gap
    if shape == "arch":
        eh = min(avail_h, round((width - 2 * margin) * 1.35))
        ew = min(round(eh * 0.74), width - 2 * margin)
    else:
        ew = eh = min(width - margin, avail_h + gap) if close else min(width - 2 * margin, avail_h)
    top = (height - (eh + gap + text_h)) // 2
    cx = width // 2
    text_top = top + eh + gap
    emblem = (cx - ew // 2, top, cx + ew // 2, top + eh)
    return Layout(emblem=emblem, text=(margin, text_top, width - margin, text_top + text_h), shape=shape)


def _side_by_side_layout(width: int, height: int, margin: int, shape: str) -> Layout:
    side = min(height - 2 * margin, round(width * 0.42))
    ew = round(side * 0.74) if shape == "arch" else side
    cx, cy = margin + round(width * 0.45 - margin) // 2, height // 2
    emblem = (cx - ew // 2, cy - side // 2, cx + ew // 2, cy + side // 2)
    return Layout(emblem=emblem, text=(round(width * 0.5), margin, width - margin, height - margin), shape=shape)


def _banner_layout(width: int, height: int, margin: int, shape: str) -> Layout:
    side = min(width, height) - 3 * margin
    cx, cy = width // 2, height // 2
    ew = round(side * 0.74) if shape == "arch" else side
    ribbon_w = min(width - margin, round(side * 1.15))
    ribbon_h = round(side * 0.2)
    ribbon_y = cy + round(side * 0.28)
    text = (cx - ribbon_w // 2, ribbon_y, cx + ribbon_w // 2, ribbon_y + ribbon_h)
    emblem = (cx - ew // 2, cy - side // 2, cx + ew // 2, cy + side // 2)
    return Layout(emblem=emblem, text=text, shape=shape, banner=True)


def _centre(box: Box) -> tuple[int, int]:
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2


# --- shared drawing pieces --------------------------------------------------------------
def _vertical_gradient(size: Size, top: RGB, bottom: RGB) -> Image.Image:
    """Built as one coloured column stretched sideways: much cheaper than compositing."""
    ramp = Image.linear_gradient("L").resize((1, size[1]), Image.Resampling.BILINEAR)
    bands = [ramp.point([round(t + (b - t) * v / 255) for v in range(256)]) for t, b in zip(top, bottom, strict=True)]
    return Image.merge("RGB", bands).resize(size, Image.Resampling.NEAREST)


@lru_cache(maxsize=1)
def _radial_mask() -> Image.Image:
    """0 at the centre of a 768px square, 255 from 128px out (Pillow's gradient reaches 255
    only in its corners, so it is rescaled and padded)."""
    inner = Image.radial_gradient("L").point(lambda v: min(255, round(v * 181 / 128)))
    padded = Image.new("L", (768, 768), 255)
    padded.paste(inner, (256, 256))
    return padded


def _radial_gradient(
    size: Size, centre: RGB, edge: RGB, at: tuple[float, float] = (0.5, 0.5), reach: float = 0.7
) -> Image.Image:
    """`centre` colour at `at` (fractions of the size) fading to `edge` at `reach` x the longer side."""
    w, h = size
    radius = max(reach * max(w, h), max(w, h) / 2.9)
    scale = 128 / radius
    cx, cy = at[0] * w, at[1] * h
    box = (384 - cx * scale, 384 - cy * scale, 384 + (w - cx) * scale, 384 + (h - cy) * scale)
    mask = _radial_mask().resize(size, Image.Resampling.BILINEAR, box=box)
    return Image.composite(Image.new("RGB", size, edge), Image.new("RGB", size, centre), mask)


def _blurred(mask: Image.Image, radius: float) -> Image.Image:
    """A cheap wide blur: blur a quarter-size copy and scale it back."""
    w, h = mask.size
    small = mask.resize((max(1, w // 4), max(1, h // 4)), Image.Resampling.BILINEAR)
    return small.filter(ImageFilter.GaussianBlur(max(0.5, radius / 4))).resize((w, h), Image.Resampling.BILINEAR)


def _grown(mask: Image.Image, pixels: float) -> Image.Image:
    """The mask dilated by about `pixels`, with soft-but-solid edges."""
    # a blur's faint tail reaches ~1.5 sigma out: cut it there, with a steep (smooth) ramp
    return _blurred(mask, pixels / 1.5).point(lambda v: max(0, min(255, (v - 12) * 48)))


def _faded(mask: Image.Image, opacity: float) -> Image.Image:
    return mask.point(lambda v: round(v * opacity))


def _shape_mask(size: Size, shape: str, inset: float = 0.0) -> Image.Image:
    """A circle (an ellipse filling `size`) or an arch (round top, square foot), `inset` px in."""
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    w, h = size
    right, bottom = w - 1 - inset, h - 1 - inset
    if right - inset < 1 or bottom - inset < 1:
        return mask
    if shape == "arch":  # drawn as two pieces: Pillow's rounded_rectangle trips on a full-width radius
        draw.ellipse((inset, inset, right, inset + (right - inset)), fill=255)
        draw.rectangle((inset, inset + (right - inset) / 2, right, bottom), fill=255)
    else:
        draw.ellipse((inset, inset, right, bottom), fill=255)
    return mask


def _draw_ring(img: Image.Image, shape: str, inset: float, width: int, colour: RGB | int) -> None:
    """An outline `width` px wide, `inset` px inside the edge of the shape."""
    w, h = img.size
    if shape == "circle":
        ImageDraw.Draw(img).ellipse((inset, inset, w - 1 - inset, h - 1 - inset), outline=colour, width=width)
        return
    ring = ImageChops.subtract(_shape_mask(img.size, shape, inset), _shape_mask(img.size, shape, inset + width))
    img.paste(colour, (0, 0), ring)


def _badge_rings(img: Image.Image, shape: str, scheme: Scheme) -> None:
    w = img.width
    _draw_ring(img, shape, 0, max(2, round(w * 0.045)), scheme.ink)
    _draw_ring(img, shape, w * 0.062, max(1, round(w * 0.01)), scheme.paper)


def _accents(scheme: Scheme, rng: random.Random) -> list[RGB]:
    order = list(scheme.accents)
    if rng.random() < 0.5:
        order[0], order[1] = order[1], order[0]
    return order


# --- backgrounds -------------------------------------------------------------------------
Background = Callable[[Size, Scheme, random.Random, tuple[int, int]], Image.Image]


def _bg_gradient(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    return _vertical_gradient(size, scheme.ground, scheme.ground_far)


def _bg_sunburst(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    canvas = _vertical_gradient(size, scheme.ground, _mix(scheme.ground, scheme.accents[0], 0.12))
    rays = Image.new("L", size, 0)
    draw = ImageDraw.Draw(rays)
    count = rng.choice((16, 20, 24, 28))
    reach = math.hypot(*size)
    start = rng.uniform(0, 360 / count)
    for i in range(0, count, 2):
        a0 = start + i * 360 / count
        draw.pieslice(
            (focus[0] - reach, focus[1] - reach, focus[0] + reach, focus[1] + reach), a0, a0 + 360 / count, fill=255
        )
    fade = _radial_gradient(
        size, (255, 255, 255), (60, 60, 60), (focus[0] / size[0], focus[1] / size[1]), 0.75
    ).convert("L")
    canvas.paste(_mix(scheme.ground, scheme.accents[0], 0.35), (0, 0), _faded(ImageChops.multiply(fade, rays), 0.55))
    return canvas


def _bg_halftone(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    canvas = _vertical_gradient(size, scheme.ground, _mix(scheme.ground, scheme.accents[1], 0.18))
    dots = Image.new("L", size, 0)
    draw = ImageDraw.Draw(dots)
    step = max(6, round(min(w, h) / 42))
    for row, y in enumerate(range(round(h * 0.35), h + step, step)):
        r = step * 0.48 * (max(0.0, y - h * 0.35) / (h * 0.65)) ** 1.3
        if r < 0.8:
            continue
        for x in range((row % 2) * step // 2, w + step, step):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    canvas.paste(_mix(scheme.ground, scheme.accents[0], 0.55), (0, 0), dots)
    _draw_corner_frame(canvas, scheme)
    return canvas


def _bg_dots(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    canvas = Image.new("RGB", size, scheme.ground)
    draw = ImageDraw.Draw(canvas)
    step = max(8, round(min(w, h) / 16))
    r = max(1, step // 9)
    colour = _mix(scheme.ground, scheme.accents[2], 0.35)
    for row, y in enumerate(range(step // 2, h, step)):
        for x in range((row % 2) * step // 2, w + step, step):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return canvas


def _bg_washes(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    small = (max(8, w // 8), max(8, h // 8))
    layer = Image.new("RGB", small, scheme.ground)
    for i in range(7):
        colour = scheme.accents[i % 3]
        blob = Image.new("L", small, 0)
        cx, cy = rng.uniform(-0.1, 1.1) * small[0], rng.uniform(-0.1, 1.1) * small[1]
        rx, ry = rng.uniform(0.2, 0.45) * small[0], rng.uniform(0.12, 0.3) * small[1]
        ImageDraw.Draw(blob).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=round(255 * rng.uniform(0.18, 0.32)))
        layer.paste(colour, (0, 0), blob.filter(ImageFilter.GaussianBlur(min(small) / 14)))
    return layer.resize(size, Image.Resampling.BICUBIC)


def _bg_frame(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    canvas = Image.new("RGB", size, scheme.ground)
    w, h = size
    draw = ImageDraw.Draw(canvas)
    inset = round(min(w, h) * 0.035)
    line = max(1, round(min(w, h) / 500))
    draw.rectangle((inset, inset, w - 1 - inset, h - 1 - inset), outline=scheme.ink, width=line * 2)
    gap = inset + line * 6
    draw.rectangle((gap, gap, w - 1 - gap, h - 1 - gap), outline=_mix(scheme.ink, scheme.ground, 0.5), width=line)
    return canvas


def _bg_pixels(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    px = _pixel_size(size)
    small = (max(4, w // px), max(4, h // px))
    sky = Image.new("RGB", small, scheme.ground)
    draw = ImageDraw.Draw(sky)
    bands = 6
    for i in range(1, bands):
        colour = _mix(scheme.ground, scheme.accents[0], i * 0.07)
        top = round(small[1] * (0.45 + i * 0.09))
        draw.rectangle((0, top, small[0], small[1]), fill=colour)
        for x in range(i % 2, small[0], 2):  # a dithered seam between bands
            draw.point((x, top - 1), fill=colour)
    for _ in range(small[0] * small[1] // 90):
        x, y = rng.randrange(small[0]), rng.randrange(round(small[1] * 0.6))
        draw.point((x, y), fill=_mix(scheme.ground, scheme.ink, rng.choice((0.35, 0.6, 0.9))))
    return sky.resize(size, Image.Resampling.NEAREST)


def _bg_neon_grid(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    horizon = min(h - 1, focus[1] + round(min(w, h) * 0.12))
    canvas = _vertical_gradient(size, scheme.ground, _mix(scheme.ground, scheme.accents[2], 0.55))
    floor = _mix(scheme.ground, (0, 0, 0), 0.35)
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
    canvas.paste(colour, (0, 0), _faded(_blurred(lines, min(w, h) / 90), 0.9))
    canvas.paste(_mix(colour, (255, 255, 255), 0.35), (0, 0), lines)
    _draw_stars(canvas, scheme, rng, horizon)
    return canvas


def _bg_seigaiha(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
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
                rk = r - k * (r / 4)
                # filled first so each scale hides the ones behind it
                draw.ellipse((x - rk, y - rk, x + rk, y + rk), fill=0, outline=255, width=ring)
    fade = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)  # stronger towards the bottom
    canvas.paste(_mix(scheme.ground, scheme.accents[0], 0.5), (0, 0), ImageChops.multiply(waves, fade))
    return canvas


def _bg_waves(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    canvas = Image.new("RGB", size, scheme.ground)
    draw = ImageDraw.Draw(canvas)
    stripe = round(min(w, h) * 0.06)
    colours = [scheme.accents[2], scheme.accents[1], scheme.accents[0], _mix(scheme.accents[0], scheme.ink, 0.45)]
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


def _bg_studio(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    w, h = size
    light = (
        _mix(scheme.ground, scheme.paper, 0.35)
        if _luminance(scheme.ground) < 0.5
        else _mix(scheme.ground, (255, 255, 255), 0.6)
    )
    edge = _mix(scheme.ground, (0, 0, 0), 0.15)
    return _radial_gradient(size, light, edge, (focus[0] / w, focus[1] / h), 0.75)


def _bg_spray(size: Size, scheme: Scheme, rng: random.Random, focus: tuple[int, int]) -> Image.Image:
    """A dark brick wall with soft spray-paint clouds and their spatter."""
    w, h = size
    small = (max(8, w // 6), max(8, h // 6))
    wall = Image.new("RGB", small, scheme.ground)
    clouds = [(rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.12, 0.25)) for _ in range(5)]
    for i, (fx, fy, fr) in enumerate(clouds):
        blob = Image.new("L", small, 0)
        cx, cy, r = fx * small[0], fy * small[1], fr * min(small)
        ImageDraw.Draw(blob).ellipse((cx - r, cy - r, cx + r, cy + r), fill=170)
        wall.paste(scheme.accents[i % 3], (0, 0), blob.filter(ImageFilter.GaussianBlur(r / 2)))
    canvas = wall.resize(size, Image.Resampling.BICUBIC)
    _draw_bricks(canvas, scheme)
    draw = ImageDraw.Draw(canvas)
    dot = max(1, round(min(w, h) / 500))
    for i, (fx, fy, fr) in enumerate(clouds):
        for _ in range(90):
            ang, dist = rng.uniform(0, math.tau), fr * min(w, h) * rng.uniform(0.6, 1.5)
            x, y, r = fx * w + math.cos(ang) * dist, fy * h + math.sin(ang) * dist, dot * rng.choice((1, 1, 2, 3))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=scheme.accents[i % 3])
    return canvas


def _draw_bricks(canvas: Image.Image, scheme: Scheme) -> None:
    w, h = canvas.size
    draw = ImageDraw.Draw(canvas)
    bh = max(6, round(min(w, h) / 18))
    bw = bh * 2
    colour = _mix(scheme.ground, (0, 0, 0), 0.35)
    width = max(1, bh // 12)
    for row, y in enumerate(range(0, h, bh)):
        draw.line((0, y, w, y), fill=colour, width=width)
        for x in range((row % 2) * bw // 2, w, bw):
            draw.line((x, y, x, y + bh), fill=colour, width=width)


def _draw_stars(canvas: Image.Image, scheme: Scheme, rng: random.Random, horizon: int) -> None:
    draw = ImageDraw.Draw(canvas)
    w = canvas.width
    for _ in range(60):
        x, y = rng.uniform(0, w), rng.uniform(0, horizon * 0.9)
        r = rng.choice((1, 1, 2, 3)) * max(1, w // 700)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_mix(scheme.ground, scheme.ink, rng.uniform(0.4, 0.9)))


def _draw_corner_frame(canvas: Image.Image, scheme: Scheme) -> None:
    w, h = canvas.size
    inset = round(min(w, h) * 0.03)
    ImageDraw.Draw(canvas).rectangle(
        (inset, inset, w - 1 - inset, h - 1 - inset), outline=scheme.ink, width=max(2, round(min(w, h) / 160))
    )


BACKGROUNDS: dict[str, Background] = {
    "gradient": _bg_gradient,
    "sunburst": _bg_sunburst,
    "halftone": _bg_halftone,
    "dots": _bg_dots,
    "washes": _bg_washes,
    "frame": _bg_frame,
    "pixels": _bg_pixels,
    "neon-grid": _bg_neon_grid,
    "seigaiha": _bg_seigaiha,
    "waves": _bg_waves,
    "studio": _bg_studio,
    "spray": _bg_spray,
}


# --- emblems -----------------------------------------------------------------------------
# A painter draws an emblem at a given size and returns its colours and its coverage mask.
Painter = Callable[[Size, str, Scheme, random.Random], tuple[Image.Image, Image.Image]]


def _ridge(w: int, base: float, amplitude: float, rng: random.Random, jagged: bool) -> list[tuple[float, float]]:
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


def _landscape(
    size: Size, shape: str, scheme: Scheme, rng: random.Random, ridge: str
) -> tuple[Image.Image, Image.Image]:
    w, h = size
    a = _accents(scheme, rng)
    a.append(a.pop(a.index(max(a, key=_vividness))))  # the sun takes the most vivid accent
    sky_top, sky_bottom = _mix(a[1], scheme.paper, 0.45), _mix(a[0], scheme.paper, 0.55)
    img = _vertical_gradient(size, sky_top, sky_bottom)
    draw = ImageDraw.Draw(img)
    sun_r = w * rng.uniform(0.13, 0.19)
    sun_x, sun_y = w * rng.choice((0.33, 0.5, 0.67)), h * rng.uniform(0.3, 0.4)
    draw.ellipse(
        (sun_x - sun_r * 1.35, sun_y - sun_r * 1.35, sun_x + sun_r * 1.35, sun_y + sun_r * 1.35),
        fill=_mix(sky_bottom, scheme.paper, 0.5),
    )
    draw.ellipse((sun_x - sun_r, sun_y - sun_r, sun_x + sun_r, sun_y + sun_r), fill=_mix(a[2], scheme.paper, 0.1))
    if ridge == "fuji":
        _draw_fuji(draw, size, scheme)
    for i in range(3):
        colour = _mix(_mix(a[0], scheme.ink, 0.15 + 0.32 * i), sky_bottom, 0.45 * (2 - i) / 2)
        base = h * (0.6 + 0.13 * i)
        jagged = ridge == "peaks" and i < 2
        draw.polygon(_ridge(w, base, h * (0.2 - 0.04 * i), rng, jagged) + [(w + 1, h + 1), (-1, h + 1)], fill=colour)
    _draw_birds(draw, size, scheme, rng)
    _badge_rings(img, shape, scheme)
    return img, _shape_mask(size, shape)


def _draw_fuji(draw: ImageDraw.ImageDraw, size: Size, scheme: Scheme) -> None:
    w, h = size
    peak, foot = h * 0.28, h * 0.72
    draw.polygon(
        [(w * 0.04, foot), (w * 0.42, peak), (w * 0.58, peak), (w * 0.96, foot)],
        fill=_mix(scheme.accents[0], scheme.ink, 0.35),
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
    w, h = size
    a = list(scheme.accents)
    horizon = round(h * rng.uniform(0.6, 0.66))
    if floor == "grid":
        img = _vertical_gradient(size, scheme.ground, _mix(a[2], scheme.ground, 0.3))
    else:
        img = _vertical_gradient(size, _mix(scheme.ground_far, a[1], 0.5), _mix(a[0], scheme.paper, 0.3))
    sun_r = w * rng.uniform(0.27, 0.33)
    sun_box = (round(w / 2 - sun_r), round(horizon - sun_r * 1.15), round(w / 2 + sun_r), round(horizon + sun_r * 0.85))
    sun_size = (sun_box[2] - sun_box[0], sun_box[3] - sun_box[1])
    sun_top, sun_bottom = (a[2], a[0]) if floor == "sea" else (a[0], a[2])
    sun = _vertical_gradient(sun_size, _mix(sun_top, scheme.paper, 0.15), sun_bottom)
    sun_mask = _shape_mask(sun_size, "circle")
    cut = ImageDraw.Draw(sun_mask)
    gaps = rng.randint(4, 6)
    for i in range(gaps):  # retro stripes cut out of the sun, thicker towards the bottom
        y = sun_size[1] * (0.56 - 0.3 * i / gaps)
        cut.rectangle((0, y, sun_size[0], y + sun_size[1] * 0.05 * (1 - i / gaps)), fill=0)
    img.paste(sun, sun_box[:2], sun_mask)
    draw = ImageDraw.Draw(img)
    floor_colour = _mix(scheme.ground, scheme.ink, 0.15) if floor == "grid" else _mix(a[1], scheme.ink, 0.35)
    draw.rectangle((0, horizon, w, h), fill=floor_colour)
    if floor == "grid":
        _draw_floor_grid(draw, size, horizon, a[1])
    else:
        _draw_reflection(draw, size, horizon, sun_r, _mix(a[2], scheme.paper, 0.2), rng)
    _badge_rings(img, shape, scheme)
    return img, _shape_mask(size, shape)


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
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colours[k])
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
    w, h = size
    a = _accents(scheme, rng)
    shadow_colour = _mix(scheme.ground, (0, 0, 0), 0.45)
    img = Image.new("RGB", size, shadow_colour)
    mask = Image.new("L", size, 0)
    floor_y = h * 0.86
    ImageDraw.Draw(mask).ellipse((w * 0.1, floor_y - h * 0.06, w * 0.9, floor_y + h * 0.06), fill=150)
    mask = _blurred(mask, w * 0.05)
    big = w * rng.uniform(0.25, 0.3)
    spheres = [
        (w * 0.5 + rng.uniform(-0.06, 0.06) * w, floor_y - big, big, a[0]),
        (w * 0.5 + big * 1.05, floor_y - big * 0.55, big * 0.55, a[1]),
        (w * 0.5 - big * 1.0, floor_y - big * 0.4, big * 0.4, a[2]),
    ]
    for x, y, r, colour in sorted(spheres, key=lambda s: s[1] + s[2]):
        box = (round(x - r), round(y - r), round(x + r), round(y + r))
        ball = (box[2] - box[0], box[3] - box[1])
        shaded = _radial_gradient(
            ball, _mix(colour, (255, 255, 255), 0.55), _mix(colour, (0, 0, 0), 0.45), (0.33, 0.3), 0.85
        )
        circle = _shape_mask(ball, "circle")
        img.paste(shaded, box[:2], circle)
        mask.paste(255, box[:2], circle)
    return img, mask


def _line(size: Size, shape: str, scheme: Scheme, rng: random.Random) -> tuple[Image.Image, Image.Image]:
    """Single-weight ink drawing: ring, sun, one continuous ridge, water lines."""
    w, h = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    line = max(1, round(w / 90))
    _draw_ring(mask, shape, line, line, 255)
    sun_r, sun_x = w * rng.uniform(0.1, 0.14), w * rng.choice((0.35, 0.62))
    draw.ellipse((sun_x - sun_r, h * 0.36 - sun_r, sun_x + sun_r, h * 0.36 + sun_r), outline=255, width=line)
    ridge = _ridge(w, h * 0.66, h * 0.26, rng, jagged=True)
    draw.line([(max(0.0, x), y) for x, y in ridge if x <= w], fill=255, width=line, joint="curve")
    for i in range(3):
        half = w * (0.3 - 0.08 * i)
        y = h * (0.74 + 0.06 * i)
        draw.line((w / 2 - half, y, w / 2 + half, y), fill=255, width=line)
    mask = Image.composite(mask, Image.new("L", size, 0), _shape_mask(size, shape))
    return Image.new("RGB", size, scheme.ink), mask


EMBLEMS: dict[str, Painter] = {
    "peaks": lambda size, shape, scheme, rng: _landscape(size, shape, scheme, rng, "peaks"),
    "hills": lambda size, shape, scheme, rng: _landscape(size, shape, scheme, rng, "hills"),
    "fuji": lambda size, shape, scheme, rng: _landscape(size, shape, scheme, rng, "fuji"),
    "sunset-sea": lambda size, shape, scheme, rng: _sunset(size, shape, scheme, rng, "sea"),
    "sunset-grid": lambda size, shape, scheme, rng: _sunset(size, shape, scheme, rng, "grid"),
    "burst": _burst,
    "orbs": _orbs,
    "line": _line,
}


def _pixel_size(size: Size) -> int:
    return max(2, round(min(size) / 110))


def _paint(
    painter: Painter, size: Size, shape: str, look: Look, scheme: Scheme, rng: random.Random
) -> tuple[Image.Image, Image.Image]:
    """Run a painter supersampled (smooth edges) or, for pixel art, coarse and blown up."""
    if look.finish == "pixelate":
        px = _pixel_size(size) * 2
        img, mask = painter((max(8, size[0] // px), max(8, size[1] // px)), shape, scheme, rng)
        return img.resize(size, Image.Resampling.NEAREST), mask.point(lambda v: 255 if v > 127 else 0).resize(
            size, Image.Resampling.NEAREST
        )
    big = (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE)
    img, mask = painter(big, shape, scheme, rng)
    return img.resize(size, Image.Resampling.BOX), mask.resize(size, Image.Resampling.BOX)


def _draw_emblem(
    canvas: Image.Image, layout: Layout, painter: Painter, look: Look, scheme: Scheme, rng: random.Random
) -> None:
    x0, y0, x1, y1 = layout.emblem
    size = (x1 - x0, y1 - y0)
    img, mask = _paint(painter, size, layout.shape, look, scheme, rng)
    _apply_finish(canvas, (x0, y0), img, mask, look, scheme, rng)


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
        canvas.paste(_mix(scheme.ground, scheme.ink, 0.7), (origin[0] + unit, origin[1] + unit), _faded(padded, 0.85))
    elif look.finish == "glow":
        canvas.paste(scheme.accents[0], origin, _faded(_blurred(padded, w * 0.06), 0.95))
    elif look.finish == "die-cut":
        grown = _grown(padded, w * 0.06)
        canvas.paste(
            _mix(scheme.ground, (0, 0, 0), 0.3),
            (origin[0] + unit, origin[1] + unit * 2),
            _faded(_blurred(grown, unit * 2), 0.6),
        )
        canvas.paste((255, 255, 255), origin, grown)
    elif look.finish == "drips":
        _draw_drips(canvas, at, (w, h), scheme, rng)
        canvas.paste(scheme.ink, origin, _grown(padded, w * 0.035))
    elif look.finish == "wash":  # paint bleeding into the paper around the emblem
        canvas.paste(scheme.accents[0], origin, _faded(_blurred(_grown(padded, w * 0.03), w * 0.05), 0.35))
        mask = _faded(mask, 0.92)
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


def _draw_pattern(canvas: Image.Image, painter: Painter, look: Look, scheme: Scheme, rng: random.Random) -> None:
    w, h = canvas.size
    tile = max(16, round(min(w, h) / 4.2))
    img, mask = _paint(painter, (tile, tile), "circle", look, scheme, rng)
    gap = round(tile * 1.45)
    for row, y in enumerate(range(-tile // 3, h, gap)):
        for x in range(-tile // 3 + (row % 2) * gap // 2, w, gap):
            canvas.paste(img, (x, y), mask)


# --- lettering ---------------------------------------------------------------------------
def _title(subject: str, look: Look) -> str:
    words = subject.split()[:MAX_SUBJECT_WORDS]
    text = " ".join(words)
    return text.upper() if look.uppercase else text


@lru_cache(maxsize=1)
def _font_source() -> bytes | None:
    """The bytes of the first TrueType font found, read once (fonts are then built per call:
    FreeType faces are not shared between the worker threads)."""
    for candidate in FONT_CANDIDATES:
        try:
            font = ImageFont.truetype(candidate, 12)
        except OSError:
            continue
        path = getattr(font, "path", candidate)
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except (OSError, TypeError):
            continue
    return None


def _font(size: int) -> Font:
    source = _font_source()
    if source is not None:
        return ImageFont.truetype(io.BytesIO(source), size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the bitmap font has one size
        return ImageFont.load_default()


def _line_height(font: Font) -> int:
    left, top, right, bottom = font.getbbox("ÅgHy")
    return max(1, round(bottom - top))


def _split_lines(words: list[str], count: int) -> list[str]:
    """`words` in `count` lines whose longest line is as short as possible."""
    if count <= 1 or len(words) <= 1:
        return [" ".join(words)]
    best: list[str] = [" ".join(words)]
    best_cost = len(best[0])
    for cut in range(1, len(words)):
        head = " ".join(words[:cut])
        rest = _split_lines(words[cut:], count - 1)
        cost = max(len(head), *(len(line) for line in rest))
        if cost < best_cost:
            best, best_cost = [head, *rest], cost
    return best


def _fit(text: str, box_w: int, box_h: int) -> tuple[list[str], Font, int]:
    """The wrapping (1 to 3 lines) and font size that make `text` largest inside the box."""
    words = text.split()
    reference = _font(100)
    best: tuple[list[str], int] = ([text], 1)
    for count in range(1, min(3, len(words)) + 1):
        lines = _split_lines(words, count)
        widest = max(reference.getlength(line) for line in lines) or 1.0
        by_width = box_w / (widest * 1.08) * 100
        by_height = box_h / (len(lines) * _line_height(reference) * 1.18) * 100
        size = int(min(by_width, by_height))
        if size > best[1] * 1.04:
            best = (lines, size)
    lines, size = best
    size = max(6, size)
    font = _font(size)
    while size > 6 and max(font.getlength(line) for line in lines) * 1.08 > box_w:
        size = int(size * 0.94)
        font = _font(size)
    return lines, font, size


def _text_mask(size: Size, lines: list[str], font: Font, stroke: int) -> Image.Image:
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    line_h = _line_height(font)
    gap = round(line_h * 0.14)
    total = len(lines) * line_h + (len(lines) - 1) * gap
    y = (size[1] - total) / 2
    top_offset = font.getbbox("ÅgHy")[1]
    for line in lines:
        length = font.getlength(line)
        draw.text(
            ((size[0] - length) / 2, y - top_offset), line, font=font, fill=255, stroke_width=stroke, stroke_fill=255
        )
        y += line_h + gap
    return mask


def _draw_title(canvas: Image.Image, text: str, layout: Layout, look: Look, scheme: Scheme) -> None:
    if not text:
        return
    x0, y0, x1, y1 = layout.text
    on_band = layout.banner or layout.pattern
    if on_band:
        _draw_band(canvas, layout, scheme)
        pad = round((y1 - y0) * 0.18)
        x0, y0, x1, y1 = x0 + pad * 2, y0 + pad, x1 - pad * 2, y1 - pad
    box = (max(1, x1 - x0), max(1, y1 - y0))
    if look.lettering == "pixel":
        _draw_pixel_title(canvas, text, (x0, y0), box, scheme)
    else:
        _draw_lettering(canvas, text, (x0, y0), box, "plain" if on_band else look.lettering, scheme, on_band)


def _draw_lettering(
    canvas: Image.Image, text: str, at: tuple[int, int], box: Size, lettering: str, scheme: Scheme, on_band: bool
) -> None:
    """The subject fitted to `box`, with its effect drawn underneath: an offset shadow, an
    outline with a drop, a glow, or a thick sticker border."""
    lines, font, size = _fit(text, box[0], box[1])
    stroke = max(1, round(size / 14))
    offset = max(1, round(size / 16))
    fill, edge = _title_colours(lettering, scheme, on_band)
    letters = _text_mask(box, lines, font, 0)
    dropped = (at[0] + offset, at[1] + offset)
    if lettering == "shadow":
        canvas.paste(edge, dropped, letters)
    elif lettering == "glow":
        canvas.paste(edge, at, _blurred(_text_mask(box, lines, font, stroke * 2), size * 0.25))
    elif lettering in ("outline", "sticker"):
        if lettering == "sticker":
            border = _text_mask(box, lines, font, stroke * 3)
            canvas.paste(scheme.ink, dropped, border)
            canvas.paste(scheme.paper if _luminance(scheme.ground) < 0.5 else (255, 255, 255), at, border)
        outlined = _text_mask(box, lines, font, stroke)
        if lettering == "outline":
            canvas.paste(scheme.ink, dropped, outlined)
        canvas.paste(edge, at, outlined)
    canvas.paste(fill, at, letters)


def _title_colours(lettering: str, scheme: Scheme, on_band: bool) -> tuple[RGB, RGB]:
    """(fill, edge) for the lettering: edge is the outline, shadow or glow colour."""
    if on_band:
        return scheme.paper, scheme.ink
    if lettering in ("outline", "sticker"):
        return scheme.accents[0], scheme.ink
    if lettering == "glow":
        return _mix(scheme.paper, (255, 255, 255), 0.6), scheme.accents[0]
    if lettering == "shadow":
        return scheme.ink, scheme.accents[0]
    return scheme.ink, scheme.ink


def _draw_pixel_title(canvas: Image.Image, text: str, at: tuple[int, int], box: Size, scheme: Scheme) -> None:
    """Lettering drawn small and blown up without smoothing, so it reads as pixels."""
    px = _pixel_size(canvas.size)
    small = (max(4, box[0] // px), max(4, box[1] // px))
    lines, font, _ = _fit(text, small[0], small[1])
    mask = _text_mask(small, lines, font, 0).point(lambda v: 255 if v > 110 else 0)
    mask = mask.resize(box, Image.Resampling.NEAREST)
    canvas.paste(scheme.accents[0], (at[0] + px, at[1] + px), mask)
    canvas.paste(_mix(scheme.accents[2], scheme.paper, 0.2), at, mask)


def _draw_band(canvas: Image.Image, layout: Layout, scheme: Scheme) -> None:
    """A ribbon (badge) or a solid band (pattern) for the lettering to sit on."""
    x0, y0, x1, y1 = layout.text
    draw = ImageDraw.Draw(canvas)
    line = max(2, round((y1 - y0) / 18))
    if layout.pattern:
        draw.rectangle((0, y0, canvas.width, y1), fill=scheme.ink)
        draw.rectangle((0, y0 + line * 2, canvas.width, y1 - line * 2), outline=scheme.paper, width=line)
        return
    notch = (y1 - y0) * 0.45
    tail = [
        (x0 - notch, y0 + notch * 0.4),
        (x0 + notch, y0 + notch * 0.4),
        (x0 + notch, y1 + notch * 0.4),
        (x0 - notch, y1 + notch * 0.4),
        (x0, (y0 + y1) / 2 + notch * 0.4),
    ]
    shade = _mix(scheme.accents[0], scheme.ink, 0.4)
    draw.polygon(tail, fill=shade, outline=scheme.ink, width=line)
    draw.polygon([(2 * ((x0 + x1) / 2) - x, y) for x, y in tail], fill=shade, outline=scheme.ink, width=line)
    draw.rectangle((x0 + notch * 0.4, y0, x1 - notch * 0.4, y1), fill=scheme.accents[0], outline=scheme.ink, width=line)


def _draw_draft_mark(canvas: Image.Image) -> None:
    """A small semi-transparent 'DRAFT' pill in the bottom-right corner."""
    w, h = canvas.size
    size = max(8, round(min(w, h) * 0.022))
    font = _font(size)
    label = "DRAFT"
    left, top, right, bottom = font.getbbox(label)
    pad_x, pad_y = size * 0.7, size * 0.35
    box_w, box_h = round(right - left + 2 * pad_x), round(bottom - top + 2 * pad_y)
    margin = max(2, round(min(w, h) * 0.018))
    x, y = w - margin - box_w, h - margin - box_h
    pill = Image.new("L", (box_w, box_h), 0)
    ImageDraw.Draw(pill).rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=box_h // 2, fill=150)
    canvas.paste((20, 20, 24), (x, y), pill)
    ImageDraw.Draw(canvas).text((x + pad_x - left, y + pad_y - top), label, font=font, fill=(245, 245, 245))
