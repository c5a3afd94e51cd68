"""Laying a design into a drawn product: the template a product drawing returns, and how
the design is fitted (a centred crop, or wrapped round a cylinder), shaded and pasted."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops

from core.imaging.colour import RGB
from core.imaging.masks import cast_shadow, grown
from core.mockups.drawing import Box
from core.mockups.shading import FULL_SIZE_BLUR_BELOW_PX, SHADOW_COLOUR

STICKER_SHADOW = (0.012, 0.018, 0.35)  # drop and blur radius (of the canvas side), opacity

Warp = Callable[[Image.Image, tuple[int, int]], Image.Image]
Finish = Callable[[Image.Image, Image.Image], None]


@dataclass(frozen=True)
class MockupTemplate:
    """A product drawn without its print, and how a design is laid into it."""

    backdrop: Image.Image  # RGB canvas: background and product
    box: Box  # where the print goes, in canvas pixels
    shade: Image.Image | None = None  # RGB, box-sized, multiplied into the print (white = unchanged)
    gloss: Image.Image | None = None  # RGB, box-sized, screened onto the print (black = unchanged)
    clip: Image.Image | None = None  # L, box-sized: which print pixels show
    overlay: Image.Image | None = None  # RGBA canvas drawn over the print (camera, handle)
    warp: Warp | None = None  # lays the design into the box instead of a flat crop (mug)
    finish: Finish | None = None  # draws what depends on the design besides the box (canvas edges)
    angle: float = 0.0  # the print turned by this many degrees about the box centre (sticker)
    aspect: float = 0.0  # the print area's width / height, where a warp's box is not that shape
    die_cut: float = 0.0  # px of backing round the print's outline (a die-cut sticker), 0 for none
    die_cut_colour: RGB = (255, 255, 255)

    @property
    def print_size(self) -> tuple[int, int]:
        """The pixels the print is laid out at before it goes into the box: the box, or for a
        warp, the print area's shape at the box's height."""
        box_w, box_h = self.box[2] - self.box[0], self.box[3] - self.box[1]
        if self.warp is not None and self.aspect:
            return max(1, round(box_h * self.aspect)), box_h
        return box_w, box_h


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
    if template.die_cut:
        _die_cut(canvas, template, rgb, alpha)
    elif template.angle:
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


def _die_cut(canvas: Image.Image, template: MockupTemplate, rgb: Image.Image, alpha: Image.Image) -> None:
    """The print on its backing cut round its outline (grown by `die_cut` px), turned by the
    template's angle, with the shadow the sticker casts."""
    margin = round(template.die_cut * 3)  # room for the backing and its shadow
    outline = Image.new("L", (rgb.width + 2 * margin, rgb.height + 2 * margin), 0)
    outline.paste(alpha, (margin, margin))
    sticker = Image.new("RGBA", outline.size, (*template.die_cut_colour, 0))
    sticker.putalpha(grown(outline, template.die_cut))
    printed = rgb.convert("RGBA")
    printed.putalpha(alpha)
    sticker.alpha_composite(printed, (margin, margin))
    sticker = sticker.rotate(template.angle, resample=Image.Resampling.BILINEAR, expand=True)
    cx, cy = (template.box[0] + template.box[2]) / 2, (template.box[1] + template.box[3]) / 2
    at = (round(cx - sticker.width / 2), round(cy - sticker.height / 2))
    side = canvas.width
    shadow = cast_shadow(sticker.getchannel("A"), (0, STICKER_SHADOW[0] * side), STICKER_SHADOW[1] * side,
                         STICKER_SHADOW[2], full_size_below=FULL_SIZE_BLUR_BELOW_PX)
    canvas.paste(SHADOW_COLOUR, (*at, at[0] + sticker.width, at[1] + sticker.height), shadow)
    canvas.paste(sticker, at, sticker)


def cover_fit(design: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The design scaled to cover `size`, the overflow cropped equally from both sides."""
    if design.size == size:
        return design
    width, height = size
    src_w, src_h = design.size
    scale = max(width / src_w, height / src_h)
    crop_w, crop_h = width / scale, height / scale
    left, top = (src_w - crop_w) / 2, (src_h - crop_h) / 2
    return design.resize(
        size, Image.Resampling.BICUBIC, box=(left, top, left + crop_w, top + crop_h), reducing_gap=2.0
    )


def cylinder_warp(face_w: int, print_h: int, curve: float, aspect: float, strips: int = 28) -> Warp:
    """Wraps the middle of a design around the front half of a cylinder seen from above.

    Columns are spaced by arcsin (the edges turn away), and each column sits lower by the
    rim ellipse's depth at that point, so horizontal lines curve like the rim does.
    """

    def warp(design: Image.Image, box_size: tuple[int, int]) -> Image.Image:
        src_w, src_h = design.size
        # the visible half of the cylinder shows an arc of pi/2 times the face width
        visible = min(src_w, src_h * (math.pi / 2 * face_w) / print_h / 1.0)
        visible = min(visible, src_w, src_h * aspect)
        center = src_w / 2
        k = src_h / print_h
        mesh = []
        for i in range(strips):
            xa, xb = face_w * i / strips, face_w * (i + 1) / strips
            quads = []
            for x in (xa, xb):
                t = max(-1.0, min(1.0, 2 * x / face_w - 1))
                sx = center + math.asin(t) / math.pi * visible
                dy = curve * math.sqrt(max(0.0, 1 - t * t))
                quads.append((sx, -dy * k, (box_size[1] - dy) * k))
            (sa, ta, ba), (sb, tb, bb) = quads
            mesh.append(((round(xa), 0, round(xb), box_size[1]), (sa, ta, sa, ba, sb, bb, sb, tb)))
        if design.mode != "RGBA":
            design = design.convert("RGBA")
        return design.transform(box_size, Image.Transform.MESH, mesh, Image.Resampling.BILINEAR)

    return warp
