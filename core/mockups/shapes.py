"""The product drawings: one function per `Product.shape`, each returning a MockupTemplate.

Each drawing is made once per (shape, colour, print aspect, size) and cached. Layout is
in fractions of the square canvas; `_fit` places the print area inside the room the
product leaves for it, keeping the product's print aspect (Product.print_area_in).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw

from core.catalog import Product
from core.imaging.colour import RGB, hex_rgb, luminance, mix
from core.imaging.gradients import horizontal_profile, vertical_gradient
from core.mockups.compositing import MockupTemplate, cylinder_warp
from core.mockups.drawing import (
    Box,
    draw_lines,
    mask,
    mirrored,
    paint,
    polygon_mask,
    quad,
    rounded_mask,
    smooth_rgba,
    unit_box,
)
from core.mockups.shading import (
    as_rgb,
    cylinder_profile,
    diagonal_gloss,
    fabric_stroke_strength,
    light_from_top,
    mirror_strokes,
    put_shadow,
    shade_layer,
    shaded_fill,
    soft_blur,
    soften,
    weave,
)

BACKDROP_TOP = hex_rgb("#efede9")
BACKDROP_BOTTOM = hex_rgb("#d5d0c7")


def template_for(product: Product, size: int) -> MockupTemplate:
    w_in, h_in = product.print_area_in
    shape = product.shape if product.shape in SHAPES else "poster"
    return _template(shape, product.base_color, w_in / h_in, size)


@lru_cache(maxsize=64)
def _template(shape: str, base_color: str, aspect: float, size: int) -> MockupTemplate:
    return SHAPES[shape](hex_rgb(base_color), aspect, size)


def _backdrop(size: int) -> Image.Image:
    return vertical_gradient((size, size), BACKDROP_TOP, BACKDROP_BOTTOM)


def _fit(center: tuple[float, float], room: tuple[float, float], aspect: float, size: int) -> Box:
    """The largest box of `aspect` (w/h) inside `room` (unit w, h) around `center`, in pixels."""
    room_w, room_h = room
    w = min(room_w, room_h * aspect)
    h = w / aspect
    cx, cy = center
    return unit_box((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), size)


# --- t-shirt ----------------------------------------------------------------------------
TSHIRT_RIGHT = [
    (0.5, 0.128),
    *quad((0.5, 0.128), (0.545, 0.128), (0.58, 0.134), 6),
    *quad((0.58, 0.134), (0.66, 0.15), (0.735, 0.172), 6),
    *quad((0.735, 0.172), (0.83, 0.215), (0.905, 0.33), 8),
    (0.83, 0.415),
    (0.742, 0.36),
    *quad((0.742, 0.36), (0.73, 0.62), (0.748, 0.865), 10),
    *quad((0.748, 0.865), (0.62, 0.874), (0.5, 0.874), 6),
]
TSHIRT_NECK_RIGHT = [(0.5, 0.128), *quad((0.5, 0.128), (0.545, 0.128), (0.58, 0.134), 6),
                     *quad((0.58, 0.134), (0.57, 0.198), (0.5, 0.2), 10)]


def tshirt(color: RGB, aspect: float, size: int) -> MockupTemplate:
    canvas = _backdrop(size)
    body = polygon_mask(size, mirrored(TSHIRT_RIGHT))
    put_shadow(canvas, body, size)
    k = fabric_stroke_strength(color)
    strokes = mirror_strokes([
        ([(0.74, 0.37), (0.745, 0.86)], 0.05, round(44 * k)),
        ([(0.74, 0.37), (0.66, 0.47)], 0.02, round(40 * k)),
        ([(0.745, 0.185), (0.82, 0.36)], 0.03, round(20 * k)),
        ([(0.63, 0.58), (0.60, 0.84)], 0.024, round(18 * k)),
        ([(0.44, 0.64), (0.47, 0.80)], 0.02, round(10 * k)),
    ])
    shade = ImageChops.multiply(shade_layer(size, strokes, 0.018), light_from_top(size, 26))
    paint(canvas, shaded_fill(size, color, shade), body)
    neck = polygon_mask(size, mirrored(TSHIRT_NECK_RIGHT))
    paint(canvas, mix(color, (0, 0, 0), 0.22), neck)
    draw_lines(canvas, size, mix(color, (0, 0, 0), 0.12), [
        (quad((0.42, 0.134), (0.43, 0.2), (0.5, 0.202), 10) + quad((0.5, 0.202), (0.57, 0.2), (0.58, 0.134), 10), 0.016),
    ])
    draw_lines(canvas, size, mix(color, (0, 0, 0), 0.16), [
        ([(0.8885, 0.311), (0.8135, 0.396)], 0.003), ([(0.1115, 0.311), (0.1865, 0.396)], 0.003),
        ([(0.254, 0.848), (0.746, 0.848)], 0.003),
    ])
    box = _fit((0.5, 0.45), (0.30, 0.39), aspect, size)
    return MockupTemplate(canvas, box, shade=as_rgb(soften(shade.crop(box), 0.85)))


# --- hoodie -----------------------------------------------------------------------------
HOODIE_BODY_RIGHT = [(0.5, 0.16), (0.60, 0.168), (0.712, 0.205), (0.735, 0.31), (0.727, 0.84), (0.73, 0.912), (0.5, 0.916)]
HOODIE_SLEEVE_RIGHT = [(0.70, 0.203), (0.79, 0.245), (0.85, 0.40), (0.876, 0.72), (0.882, 0.805), (0.80, 0.805), (0.793, 0.72),
                       (0.757, 0.43), (0.735, 0.31)]
HOODIE_HOOD_RIGHT = [(0.5, 0.056), *quad((0.5, 0.056), (0.625, 0.054), (0.65, 0.15), 8),
                     *quad((0.65, 0.15), (0.672, 0.232), (0.60, 0.256), 8), (0.5, 0.262)]
HOODIE_OPENING_RIGHT = [(0.5, 0.098), *quad((0.5, 0.098), (0.578, 0.098), (0.594, 0.17), 8),
                        *quad((0.594, 0.17), (0.602, 0.236), (0.5, 0.254), 8)]


def hoodie(color: RGB, aspect: float, size: int) -> MockupTemplate:
    canvas = _backdrop(size)
    sleeves = ImageChops.lighter(
        polygon_mask(size, HOODIE_SLEEVE_RIGHT), polygon_mask(size, [(1 - x, y) for x, y in HOODIE_SLEEVE_RIGHT])
    )
    body = polygon_mask(size, mirrored(HOODIE_BODY_RIGHT))
    hood = polygon_mask(size, mirrored(HOODIE_HOOD_RIGHT))
    everything = ImageChops.lighter(ImageChops.lighter(sleeves, body), hood)
    put_shadow(canvas, everything, size)
    k = fabric_stroke_strength(color)
    strokes = mirror_strokes([
        ([(0.738, 0.31), (0.76, 0.80)], 0.012, round(60 * k)),
        ([(0.72, 0.33), (0.72, 0.84)], 0.04, round(22 * k)),
        ([(0.80, 0.27), (0.845, 0.55)], 0.025, round(16 * k)),
        ([(0.80, 0.75), (0.875, 0.75)], 0.008, round(26 * k)),
        ([(0.27, 0.845), (0.73, 0.845)], 0.008, round(26 * k)),
        ([(0.62, 0.70), (0.59, 0.83)], 0.02, round(14 * k)),
    ])
    shade = ImageChops.multiply(shade_layer(size, strokes, 0.012), light_from_top(size, 30))
    fill = shaded_fill(size, color, shade)
    paint(canvas, fill, hood)
    paint(canvas, mix(color, (0, 0, 0), 0.45), polygon_mask(size, mirrored(HOODIE_OPENING_RIGHT)))
    paint(canvas, fill, sleeves)
    paint(canvas, fill, body)
    seam = mix(color, (0, 0, 0), 0.25)
    draw_lines(canvas, size, mix(color, (255, 255, 255), 0.10), [
        (quad((0.424, 0.126), (0.40, 0.225), (0.5, 0.254), 10) + quad((0.5, 0.254), (0.60, 0.225), (0.576, 0.126), 10), 0.012),
    ])
    pocket = [(0.36, 0.625), (0.64, 0.625), (0.685, 0.80), (0.315, 0.80)]
    draw_lines(canvas, size, seam, [
        ([*pocket, pocket[0]], 0.004),
        ([(0.64, 0.625), (0.67, 0.70), (0.685, 0.80)], 0.004), ([(0.36, 0.625), (0.33, 0.70), (0.315, 0.80)], 0.004),
    ])
    string = mix(color, (255, 255, 255), 0.85) if luminance(color) < 0.5 else mix(color, (0, 0, 0), 0.4)
    draw_lines(canvas, size, string, [([(0.472, 0.245), (0.466, 0.36)], 0.008), ([(0.528, 0.245), (0.536, 0.372)], 0.008)])
    draw_lines(canvas, size, mix(string, (120, 120, 120), 0.4), [([(0.466, 0.352), (0.465, 0.372)], 0.011),
                                                                  ([(0.536, 0.364), (0.537, 0.384)], 0.011)])
    box = _fit((0.5, 0.495), (0.34, 0.2), aspect, size)
    return MockupTemplate(canvas, box, shade=as_rgb(soften(shade.crop(box), 0.8)))


# --- mug ----------------------------------------------------------------------------------
MUG_X = (0.19, 0.65)
MUG_TOP, MUG_BOTTOM, MUG_RY = 0.22, 0.80, 0.048


def mug(color: RGB, aspect: float, size: int) -> MockupTemplate:
    canvas = _backdrop(size)
    x0, x1 = MUG_X
    body = mask(size, lambda d, s: (
        d.rectangle([x0 * s, MUG_TOP * s, x1 * s, MUG_BOTTOM * s], fill=255),
        d.ellipse([x0 * s, (MUG_BOTTOM - MUG_RY) * s, x1 * s, (MUG_BOTTOM + MUG_RY) * s], fill=255),
        d.ellipse([x0 * s, (MUG_TOP - MUG_RY) * s, x1 * s, (MUG_TOP + MUG_RY) * s], fill=255),
    ))
    handle = mask(size, lambda d, s: d.ellipse([0.575 * s, 0.33 * s, 0.835 * s, 0.66 * s], outline=255, width=round(0.052 * s)))
    put_shadow(canvas, ImageChops.lighter(body, handle), size, drop=0.02, radius=0.03, opacity=0.3)
    across = horizontal_profile((size, size), lambda t: 255)
    bx0, bx1 = round(x0 * size), round(x1 * size)
    across.paste(horizontal_profile((bx1 - bx0, size), cylinder_profile(0.38)), (bx0, 0))
    handle_shade = light_from_top(size, 60)
    paint(canvas, shaded_fill(size, color, handle_shade), handle)
    paint(canvas, shaded_fill(size, color, across), body)
    gloss_row = horizontal_profile((bx1 - bx0, 1), lambda t: 150 * math.exp(-((t - 0.27) / 0.05) ** 2))
    gloss_full = Image.new("L", (size, size), 0)
    gloss_full.paste(gloss_row.resize((bx1 - bx0, size)), (bx0, 0))
    gloss_full = ImageChops.multiply(gloss_full, body)
    paint(canvas, (255, 255, 255), gloss_full)
    inside = mask(size, lambda d, s: d.ellipse([(x0 + 0.012) * s, (MUG_TOP - MUG_RY + 0.008) * s,
                                                (x1 - 0.012) * s, (MUG_TOP + MUG_RY - 0.006) * s], fill=255))
    inner = vertical_gradient((size, size), mix(color, (0, 0, 0), 0.45), mix(color, (0, 0, 0), 0.18))
    paint(canvas, inner, inside)
    print_top, print_bottom = MUG_TOP + 0.075, MUG_BOTTOM - 0.035
    box = unit_box((x0, print_top, x1, print_bottom + MUG_RY), size)
    face_w_px = box[2] - box[0]
    print_h_px = round((print_bottom - print_top) * size)
    curve_px = MUG_RY * size
    shade = as_rgb(across.crop(box))
    gloss = as_rgb(gloss_full.crop(box))
    clip = body.crop(box)
    return MockupTemplate(canvas, box, shade=shade, gloss=gloss, clip=clip,
                          warp=cylinder_warp(face_w_px, print_h_px, curve_px, aspect), aspect=aspect)


# --- poster -------------------------------------------------------------------------------
def poster(color: RGB, aspect: float, size: int) -> MockupTemplate:
    canvas = _backdrop(size)
    paper = _fit((0.5, 0.51), (0.62, 0.74), aspect, size)
    px0, py0, px1, py1 = (v / size for v in paper)
    bars = [(px0 - 0.018, py0 - 0.02, px1 + 0.018, py0 + 0.012), (px0 - 0.018, py1 - 0.012, px1 + 0.018, py1 + 0.02)]
    sheet = rounded_mask(size, (px0, py0, px1, py1), 0.002)
    hanger = mask(size, lambda d, s: [d.rounded_rectangle([v * s for v in b], radius=0.006 * s, fill=255) for b in bars])
    put_shadow(canvas, ImageChops.lighter(sheet, hanger), size, drop=0.016, radius=0.025, opacity=0.35)
    draw_lines(canvas, size, (70, 62, 55), [([(px0 + 0.05, py0 - 0.02), (0.5, 0.045), (px1 - 0.05, py0 - 0.02)], 0.003)])
    paint(canvas, (60, 55, 50), mask(size, lambda d, s: d.ellipse([0.492 * s, 0.037 * s, 0.508 * s, 0.053 * s], fill=255)))
    paint(canvas, color, sheet)
    wood = vertical_gradient((size, size), hex_rgb("#9a7350"), hex_rgb("#5f4330"))
    box = unit_box((px0, py0, px1, py1), size)
    under_bar = light_from_top(size, 0)
    ImageDraw.Draw(under_bar).rectangle([0, 0, size, round((py0 + 0.012) * size) + 3], fill=222)
    shade = as_rgb(ImageChops.multiply(soft_blur(under_bar, 0.008 * size), light_from_top(size, 14)).crop(box))
    gloss = diagonal_gloss(box, 34)
    overlay = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    overlay.paste(wood.convert("RGBA"), (0, 0), hanger)
    return MockupTemplate(canvas, box, shade=shade, gloss=gloss, overlay=overlay)


# --- canvas (gallery-wrapped) ---------------------------------------------------------------
CANVAS_DEPTH = 0.032


def canvas_print(color: RGB, aspect: float, size: int) -> MockupTemplate:
    canvas = _backdrop(size)
    face = _fit((0.49, 0.49), (0.6, 0.72), aspect, size)
    fx0, fy0, fx1, fy1 = (v / size for v in face)
    d = CANVAS_DEPTH
    side = [(fx1, fy0), (fx1 + d, fy0 + d * 0.5), (fx1 + d, fy1 + d * 0.5), (fx1, fy1)]
    bottom = [(fx0, fy1), (fx1, fy1), (fx1 + d, fy1 + d * 0.5), (fx0 + d, fy1 + d * 0.5)]
    whole = polygon_mask(size, [(fx0, fy0), (fx1, fy0), (fx1 + d, fy0 + d * 0.5), (fx1 + d, fy1 + d * 0.5), (fx0 + d, fy1 + d * 0.5), (fx0, fy1)])
    put_shadow(canvas, whole, size, drop=0.02, radius=0.03, opacity=0.38)
    paint(canvas, color, whole)
    side_mask, bottom_mask = polygon_mask(size, side), polygon_mask(size, bottom)
    depth_px = round(d * size)
    face_w, face_h = face[2] - face[0], face[3] - face[1]

    def wrap_edges(target: Image.Image, printed: Image.Image) -> None:
        # gallery wrap: the design's outer pixels continue round the stretcher bars
        right = printed.crop((face_w - 2, 0, face_w, face_h)).resize((depth_px, face_h))
        right = right.transform((depth_px, face_h + depth_px), Image.Transform.AFFINE, (1, 0, 0, -0.5, 1, 0))
        target.paste(ImageChops.multiply(right, Image.new("RGB", right.size, (150, 150, 150))), (face[2], face[1]),
                     side_mask.crop((face[2], face[1], face[2] + depth_px, face[1] + face_h + depth_px)))
        low = printed.crop((0, face_h - 2, face_w, face_h)).resize((face_w, depth_px // 2 + 1))
        low = low.transform((face_w + depth_px, depth_px // 2 + 1), Image.Transform.AFFINE, (1, -2, 0, 0, 1, 0))
        target.paste(ImageChops.multiply(low, Image.new("RGB", low.size, (190, 190, 190))), (face[0], face[3]),
                     bottom_mask.crop((face[0], face[3], face[0] + face_w + depth_px, face[3] + depth_px // 2 + 1)))

    texture = weave(size, 10)
    shade = as_rgb(ImageChops.multiply(texture.crop(face), light_from_top(size, 16).crop(face)))
    return MockupTemplate(canvas, face, shade=shade, gloss=diagonal_gloss(face, 18), finish=wrap_edges)


# --- phone case -----------------------------------------------------------------------------
def phone(color: RGB, aspect: float, size: int) -> MockupTemplate:
    canvas = _backdrop(size)
    case = _fit((0.5, 0.5), (0.5, 0.82), aspect, size)
    cx0, cy0, cx1, cy1 = (v / size for v in case)
    radius = (cx1 - cx0) * 0.16
    body = rounded_mask(size, (cx0, cy0, cx1, cy1), radius)
    put_shadow(canvas, body, size, drop=0.018, radius=0.028, opacity=0.4)
    rim = vertical_gradient((size, size), mix(color, (255, 255, 255), 0.12), color)
    paint(canvas, rim, body)
    inset = 0.011
    inner = (cx0 + inset, cy0 + inset, cx1 - inset, cy1 - inset)
    box = unit_box(inner, size)
    clip = rounded_mask(size, inner, radius - inset).crop(box)
    overlay = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    cam = (inner[0] + 0.02, inner[1] + 0.02, inner[0] + 0.02 + 0.15, inner[1] + 0.02 + 0.15)
    draw = ImageDraw.Draw(overlay)
    s = size
    draw.rounded_rectangle([v * s for v in (cam[0] - 0.007, cam[1] - 0.007, cam[2] + 0.007, cam[3] + 0.007)],
                           radius=0.042 * s, fill=(*color, 255))
    draw.rounded_rectangle([v * s for v in cam], radius=0.035 * s, fill=(38, 38, 44, 255))
    for lx, ly in ((0.04, 0.04), (0.04, 0.11), (0.105, 0.075)):
        cx, cy = cam[0] + lx, cam[1] + ly
        draw.ellipse([(cx - 0.029) * s, (cy - 0.029) * s, (cx + 0.029) * s, (cy + 0.029) * s], fill=(20, 20, 24, 255))
        draw.ellipse([(cx - 0.019) * s, (cy - 0.019) * s, (cx + 0.019) * s, (cy + 0.019) * s], fill=(10, 14, 30, 255))
        draw.ellipse([(cx - 0.009) * s, (cy - 0.013) * s, (cx - 0.002) * s, (cy - 0.006) * s], fill=(170, 180, 220, 200))
    fx, fy = cam[0] + 0.105, cam[1] + 0.025
    draw.ellipse([(fx - 0.008) * s, (fy - 0.008) * s, (fx + 0.008) * s, (fy + 0.008) * s], fill=(245, 236, 200, 255))
    draw.rounded_rectangle([cx1 * s - 1, 0.27 * s, cx1 * s + 0.006 * s, 0.35 * s], radius=0.003 * s, fill=(*mix(color, (0, 0, 0), 0.3), 255))
    overlay = smooth_rgba(overlay)
    gloss = diagonal_gloss(box, 46, at=0.26, width=0.12)
    shade = as_rgb(horizontal_profile((size, size), lambda t: 255 - 22 * abs(t - 0.45)).crop(box))
    return MockupTemplate(canvas, box, shade=shade, gloss=gloss, clip=clip, overlay=overlay)


# --- tote bag -----------------------------------------------------------------------------
def tote(color: RGB, aspect: float, size: int) -> MockupTemplate:
    canvas = _backdrop(size)
    bag = [(0.19, 0.34), (0.81, 0.34), (0.825, 0.935), (0.175, 0.935)]
    body = polygon_mask(size, bag)
    back_strap = mask(size, lambda d, s: d.arc([0.335 * s, 0.095 * s, 0.665 * s, 0.62 * s], 180, 360, fill=255, width=round(0.034 * s)))
    front_strap = mask(size, lambda d, s: d.arc([0.305 * s, 0.075 * s, 0.695 * s, 0.64 * s], 180, 360, fill=255, width=round(0.036 * s)))
    straps_down = mask(size, lambda d, s: [d.rectangle([x * s, 0.34 * s, (x + 0.036) * s, 0.40 * s], fill=255) for x in (0.305, 0.659)])
    put_shadow(canvas, ImageChops.lighter(body, front_strap), size, drop=0.016, radius=0.026, opacity=0.3)
    grain = ImageChops.multiply(weave(size, 16), light_from_top(size, 22))
    folds = shade_layer(size, [([(0.2, 0.36), (0.23, 0.92)], 0.04, 22), ([(0.8, 0.36), (0.77, 0.92)], 0.04, 22),
                               ([(0.2, 0.905), (0.8, 0.905)], 0.02, 16)], 0.02)
    shade = ImageChops.multiply(grain, folds)
    fill = shaded_fill(size, color, shade)
    paint(canvas, mix(color, (0, 0, 0), 0.22), back_strap)
    paint(canvas, fill, body)
    paint(canvas, fill, front_strap)
    paint(canvas, fill, straps_down)
    stitch = mix(color, (0, 0, 0), 0.2)
    draw_lines(canvas, size, stitch, [([(0.19, 0.368), (0.81, 0.368)], 0.003)])
    for x in (0.305, 0.659):
        draw_lines(canvas, size, stitch, [([(x + 0.004, 0.372), (x + 0.032, 0.372), (x + 0.032, 0.396), (x + 0.004, 0.396), (x + 0.004, 0.372)], 0.0025)])
    box = _fit((0.5, 0.655), (0.44, 0.44), aspect, size)
    return MockupTemplate(canvas, box, shade=as_rgb(soften(shade.crop(box), 0.9)))


# --- sticker -------------------------------------------------------------------------------
STICKER_ANGLE = -6.0


def sticker(color: RGB, aspect: float, size: int) -> MockupTemplate:
    """A die-cut sticker: the backing follows the print's outline (drawn with the print, in
    compose), so the template is the backdrop and where the print goes."""
    canvas = _backdrop(size)
    outer = _fit((0.5, 0.5), (0.64, 0.64), aspect, size)
    ox0, oy0, ox1, oy1 = (v / size for v in outer)
    border = 0.03
    box = unit_box((ox0 + border, oy0 + border, ox1 - border, oy1 - border), size)
    return MockupTemplate(canvas, box, gloss=diagonal_gloss(box, 40, at=0.35, width=0.16), angle=STICKER_ANGLE,
                          die_cut=border * size, die_cut_colour=color)


SHAPES: dict[str, Callable[[RGB, float, int], MockupTemplate]] = {
    "tshirt": tshirt,
    "hoodie": hoodie,
    "mug": mug,
    "poster": poster,
    "canvas": canvas_print,
    "phone": phone,
    "tote": tote,
    "sticker": sticker,
}
