"""Vector files: the design reduced to a few flat colours and traced to SVG, for stickers,
screen print and vinyl (each colour a screen, or a sheet of vinyl).

  1. The cutout: products with `transparent_background` trace the same cutout as their print
     file (core.printing.printfiles.remove_background); pixels under half opacity stay out of
     the SVG. Other products trace the whole design.
  2. Colour quantization with Pillow: a median-cut palette of `colors` entries made from the
     opaque pixels alone (the cut-away background does not take a colour), then every pixel
     mapped to its nearest entry, without dithering (dither dots would trace as specks).
  3. Tracing with vtracer (MIT), one binary trace per colour, stacked: the colours are ordered
     by area, largest first, and layer k is every pixel whose colour comes at or after k. Each
     layer lies over the ones before it, so neighbouring colours never leave a hairline gap,
     the first layer is the design's outline, and every path has one of the palette's colours.
  4. The SVG's viewBox is the design's pixels; its width and height are the product's print
     area in inches, the design fitted the way the print file fits it (`contain` or `cover`).
"""

from __future__ import annotations

import io
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import vtracer
from PIL import Image

from core.catalog import Product
from core.errors import InvalidRequest
from core.imaging.png_check import load_png
from core.jobs.limits import MAX_VECTOR_COLORS, MIN_VECTOR_COLORS
from core.printing.printfiles import remove_background

OPAQUE_FROM = 128  # alpha at or above this is inside the cutout
# vtracer's settings for one colour layer: specks under SPECKLE_PX pixels are dropped, spline
# points kept to PATH_DECIMALS decimals (a design pixel is far below a print's dot)
SPECKLE_PX = 4
PATH_DECIMALS = 2
PATH_ELEMENT = re.compile(r"<path\b[^>]*/>")
FILL_ATTRIBUTE = re.compile(r'fill="[^"]*"')
# vtracer lets go of the GIL while it traces: the layers of one file are traced side by side
TRACE_THREADS = min(4, os.cpu_count() or 1)


@dataclass(frozen=True)
class VectorFile:
    svg: bytes
    colors: int  # the colours asked for
    paths: int
    width: int  # the traced design, in pixels (the viewBox before a `cover` crop)
    height: int


def check_colors(colors: int) -> int:
    if not MIN_VECTOR_COLORS <= colors <= MAX_VECTOR_COLORS:
        raise InvalidRequest(f"colors must be between {MIN_VECTOR_COLORS} and {MAX_VECTOR_COLORS}, not {colors}")
    return colors


def quantize(image: Image.Image, colors: int) -> tuple[np.ndarray, np.ndarray]:
    """(index, palette): each pixel's palette entry (-1 outside the cutout), and the palette's
    RGB rows, ordered by area, largest first; entries no pixel uses are left out."""
    rgb = image.convert("RGB")
    inside = (np.asarray(image.getchannel("A")) >= OPAQUE_FROM) if image.mode == "RGBA" else (
        np.ones((image.height, image.width), dtype=bool))
    opaque = np.asarray(rgb)[inside]
    if opaque.size == 0:
        raise InvalidRequest("the design has nothing left to trace once its background is removed")
    palette_image = Image.fromarray(opaque.reshape(1, -1, 3), mode="RGB").quantize(
        colors, method=Image.Quantize.MEDIANCUT)
    index = np.asarray(rgb.quantize(palette=palette_image, dither=Image.Dither.NONE)).astype(np.int16)
    index[~inside] = -1
    counts = np.bincount(index[inside], minlength=256)
    order = [int(i) for i in np.argsort(-counts, kind="stable") if counts[i] > 0]
    palette = np.asarray(palette_image.getpalette()[: 3 * 256], dtype=np.uint8).reshape(-1, 3)
    rank = np.full(257, -1, dtype=np.int16)  # index -1 maps to the last entry: stays -1
    rank[order] = np.arange(len(order), dtype=np.int16)
    return rank[index], palette[order]


def _trace_layer(mask: np.ndarray) -> list[str]:
    """The <path> elements vtracer draws over `mask` (True = inside), filled black."""
    buffer = io.BytesIO()
    Image.fromarray(np.where(mask, 0, 255).astype(np.uint8), mode="L").save(buffer, format="BMP")
    svg = vtracer.convert_raw_image_to_svg(
        buffer.getvalue(), img_format="bmp", colormode="binary", mode="spline",
        filter_speckle=SPECKLE_PX, path_precision=PATH_DECIMALS,
    )
    return PATH_ELEMENT.findall(svg)


def _physical_size(product: Product, width: int, height: int) -> tuple[tuple[float, ...], float, float]:
    """(viewBox, width in, height in) of the design fitted to the product's print area."""
    area_w, area_h = product.print_area_in
    if product.print_fit == "cover":
        inch = max(area_w / width, area_h / height)
        box_w, box_h = area_w / inch, area_h / inch
        return ((width - box_w) / 2, (height - box_h) / 2, box_w, box_h), area_w, area_h
    inch = min(area_w / width, area_h / height)
    return (0, 0, width, height), width * inch, height * inch


def trace_svg(image: Image.Image, colors: int, product: Product) -> VectorFile:
    """The SVG of an RGB or RGBA image (transparent pixels left out) in `colors` colours."""
    index, palette = quantize(image, check_colors(colors))
    with ThreadPoolExecutor(TRACE_THREADS) as pool:
        layers = list(pool.map(_trace_layer, [index >= layer for layer in range(len(palette))]))
    paths: list[str] = []
    for traced, rgb in zip(layers, palette, strict=True):
        fill = 'fill="#{:02x}{:02x}{:02x}" fill-rule="evenodd"'.format(*(int(c) for c in rgb))
        paths += [FILL_ATTRIBUTE.sub(fill, path, count=1) for path in traced]
    width, height = image.size
    view_box, width_in, height_in = _physical_size(product, width, height)
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width_in:.3f}in" height="{height_in:.3f}in" '
            f'viewBox="{" ".join(f"{v:g}" for v in view_box)}">\n'
            f'<title>TenkaiGen {product.id}: {colors} colours</title>\n')
    svg = head + "\n".join(paths) + "\n</svg>\n"
    return VectorFile(svg.encode("utf-8"), colors, len(paths), width, height)


def cutout_for(design: Image.Image, product: Product) -> Image.Image:
    """What a product prints of the design: the cutout (RGBA) on products with a transparent
    background that have a plain one, else the design as it is."""
    if product.transparent_background and design.mode != "RGBA":
        cut = remove_background(design)
        if cut is not None:
            return cut
    return design


def render_vector_file(png: bytes, product: Product, colors: int) -> VectorFile:
    """The SVG of a generated design for `product`; InvalidRequest for colours out of range or a
    design that is not a whole, readable PNG within the pixel limits."""
    check_colors(colors)
    with load_png(png) as opened:
        design = opened.convert("RGBA") if opened.mode in {"RGBA", "LA", "PA"} else opened.convert("RGB")
    return trace_svg(cutout_for(design, product), colors, product)
