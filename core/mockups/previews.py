"""Small pictures for the studio: style swatches, history thumbnails and status tiles."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from core.imaging.colour import hex_rgb
from core.imaging.fonts import load_font
from core.imaging.png import encode_png
from core.mockups.drawing import SUPERSAMPLE

TILE_COLORS = {
    "pending": ("#e9e4f5", "#5b4a8b"),
    "processing": ("#e2eefb", "#2f5d8a"),
    "failed": ("#fbe4e4", "#9b2c2c"),
    "canceled": ("#ecebe8", "#5f5b55"),
}


def render_swatch(palette: list[str], width: int = 60, height: int = 24) -> bytes:
    """A rounded PNG strip of the palette's colours, each a slanted band, on a transparent background."""
    colors = [hex_rgb(c) for c in palette] or [(200, 200, 200)]
    w, h = width * SUPERSAMPLE, height * SUPERSAMPLE
    bands = Image.new("RGB", (w, h), colors[0])
    draw = ImageDraw.Draw(bands)
    step = w / len(colors)
    slant = h * 0.35
    for i, color in enumerate(colors[1:], start=1):
        x0 = i * step
        draw.polygon([(x0 + slant, 0), (w + slant, 0), (w + slant, h), (x0 - slant, h)], fill=color)
    shape = Image.new("L", (w, h), 0)
    ImageDraw.Draw(shape).rounded_rectangle([0, 0, w - 1, h - 1], radius=h * 0.3, fill=255)
    swatch = bands.convert("RGBA")
    ImageDraw.Draw(swatch).rounded_rectangle([0, 0, w - 1, h - 1], radius=h * 0.3, outline=(0, 0, 0, 60), width=SUPERSAMPLE)
    swatch.putalpha(shape)
    return encode_png(swatch.resize((width, height), Image.Resampling.BOX))


def render_thumbnail(png: bytes, side: int = 320) -> bytes:
    """A JPEG no larger than side×side of an image, over white where it is transparent."""
    image = Image.open(io.BytesIO(png))
    image.draft("RGB", (side, side))
    image.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    if image.mode in {"RGBA", "LA", "P"}:
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image.convert("RGBA"), (0, 0), image.convert("RGBA"))
        image = flat
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


def render_status_tile(status: str, caption: str, side: int = 320) -> bytes:
    """A square PNG tile for a job without an image: its status in large letters, a caption below."""
    background, ink = (hex_rgb(c) for c in TILE_COLORS.get(status, TILE_COLORS["canceled"]))
    tile = Image.new("RGB", (side, side), background)
    draw = ImageDraw.Draw(tile)
    title = load_font(side // 9)
    small = load_font(side // 20)
    draw.text((side / 2, side * 0.45), status.upper(), fill=ink, font=title, anchor="mm")
    draw.text((side / 2, side * 0.62), caption[:40], fill=ink, font=small, anchor="mm")
    return encode_png(tile)



def render_on_colour(png: bytes, colour: tuple[int, int, int], side: int = 240) -> bytes:
    """A PNG no larger than side×side of an image laid over a plain colour: how a cut-out print
    file looks on a light or a dark garment."""
    image = Image.open(io.BytesIO(png))
    image.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    layer = image.convert("RGBA")
    flat = Image.new("RGB", layer.size, colour)
    flat.paste(layer, (0, 0), layer)
    return encode_png(flat)
