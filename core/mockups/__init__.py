"""Product mockups: a finished design shown on the product it will be printed on.

`render_mockup(design_png, product)` draws the product (t-shirt, hoodie, mug, poster,
canvas, phone case, tote, sticker) with Pillow alone, and lays the design into the
product's print area with the product's shading over it. The product drawing for a given
shape, colour and size is made once and kept (`template_for`), so a preview costs one
resize of the design, a few channel operations and a PNG encode.
"""

from __future__ import annotations

import io

from PIL import Image, ImageChops

from core.catalog import Product
from core.errors import InvalidRequest
from core.mockups.shapes import SHAPES, MockupTemplate, template_for

__all__ = ["SHAPES", "MockupTemplate", "render_mockup", "template_for"]

MIN_SIZE = 64
MAX_SIZE = 2048


def render_mockup(design_png: bytes, product: Product, size: int = 640) -> bytes:
    """The design on `product`, as a `size`×`size` PNG.

    The design is cropped to the print area's shape (centre kept) and scaled into it;
    a transparent design keeps its transparency on the product. Unknown shapes are shown
    as a poster. Raises InvalidRequest when `design_png` is not an image.
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise InvalidRequest(f"mockup size must be between {MIN_SIZE} and {MAX_SIZE} pixels")
    try:
        design = Image.open(io.BytesIO(design_png))
        design.load()
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"the design is not a readable image: {exc}") from None
    template = template_for(product, size)
    canvas = compose(template, design)
    out = io.BytesIO()
    canvas.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def compose(template: MockupTemplate, design: Image.Image) -> Image.Image:
    """The template's backdrop with the design laid into its print area."""
    box_w, box_h = template.box[2] - template.box[0], template.box[3] - template.box[1]
    design = design.convert("RGBA") if design.mode in {"RGBA", "LA", "P", "PA"} else design.convert("RGB")
    if template.warp is not None:
        printed = template.warp(design, (box_w, box_h))
    else:
        printed = cover_fit(design, (box_w, box_h))
    rgb = printed.convert("RGB")
    alpha = printed.getchannel("A") if printed.mode == "RGBA" else Image.new("L", rgb.size, 255)
    if template.shade is not None:
        rgb = ImageChops.multiply(rgb, template.shade)
    if template.gloss is not None:
        rgb = ImageChops.screen(rgb, template.gloss)
    if template.clip is not None:
        alpha = ImageChops.multiply(alpha, template.clip)
    canvas = template.backdrop.copy()
    if template.finish is not None:
        template.finish(canvas, rgb)
    if template.angle:
        layer = rgb.convert("RGBA")
        layer.putalpha(alpha)
        layer = layer.rotate(template.angle, resample=Image.Resampling.BICUBIC, expand=True)
        cx, cy = (template.box[0] + template.box[2]) / 2, (template.box[1] + template.box[3]) / 2
        canvas.paste(layer, (round(cx - layer.width / 2), round(cy - layer.height / 2)), layer)
    else:
        canvas.paste(rgb, template.box[:2], alpha)
    if template.overlay is not None:
        canvas.paste(template.overlay, (0, 0), template.overlay)
    return canvas


def cover_fit(design: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The design scaled to cover `size`, the overflow cropped equally from both sides."""
    width, height = size
    src_w, src_h = design.size
    scale = max(width / src_w, height / src_h)
    crop_w, crop_h = width / scale, height / scale
    left, top = (src_w - crop_w) / 2, (src_h - crop_h) / 2
    return design.resize(
        size, Image.Resampling.BICUBIC, box=(left, top, left + crop_w, top + crop_h), reducing_gap=2.0
    )

