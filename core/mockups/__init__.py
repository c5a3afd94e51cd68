"""Product mockups: a finished design shown on the product it will be printed on.

`render_mockup(design_png, product)` draws the product (t-shirt, hoodie, mug, poster,
canvas, phone case, tote, die-cut sticker) with Pillow alone, and lays the design into the
product's print area, as the print file prints it (core.mockups.printed: the cutout on
garments, bags and stickers), with the product's shading over it. The product drawing for a given
shape, colour and size is made once and kept (`template_for`), so a preview costs one
resize of the design, a few channel operations and a PNG encode.
"""

from __future__ import annotations

import io

from PIL import Image

from core.catalog import Product
from core.errors import InvalidRequest
from core.imaging.png import encode_png
from core.mockups.compositing import MockupTemplate, compose
from core.mockups.printed import printed_design
from core.mockups.shapes import SHAPES, template_for

__all__ = ["SHAPES", "MockupTemplate", "render_mockup", "template_for"]

MIN_SIZE = 64
MAX_SIZE = 2048
PNG_COMPRESS_LEVEL = 3  # a preview is encoded on every request: speed over size


def render_mockup(design_png: bytes, product: Product, size: int = 640) -> bytes:
    """The design on `product`, as a `size`×`size` PNG.

    The design is fitted to the print area as the product's print file fits it, cut out
    where the product prints a cutout; a transparent design keeps its transparency on the
    product. Unknown shapes are shown as a poster. Raises InvalidRequest when `design_png`
    is not an image.
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise InvalidRequest(f"mockup size must be between {MIN_SIZE} and {MAX_SIZE} pixels")
    try:
        design = Image.open(io.BytesIO(design_png))
        design.load()
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"the design is not a readable image: {exc}") from None
    design = design.convert("RGBA") if design.mode in {"RGBA", "LA", "P", "PA"} else design.convert("RGB")
    template = template_for(product, size)
    canvas = compose(template, printed_design(design, product, template.print_size))
    return encode_png(canvas, compress_level=PNG_COMPRESS_LEVEL)
