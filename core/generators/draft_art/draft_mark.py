"""The small 'DRAFT' mark that tells a draft from a generated design.

On a full-bleed draft it is a semi-transparent pill in the corner. On an isolated subject
(a plain background that the print file cuts away) it is opaque, in the colour opposite the
background and inside every product's safe margin, so it survives the cutout and is clearly
on the print file: a draft is never mistaken for a finished design.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from core.imaging.fonts import load_font

LABEL = "DRAFT"
PILL_COLOUR = (20, 20, 24)
PILL_OPACITY = 150
LABEL_COLOUR = (245, 245, 245)
MARGIN_SHARE = 0.018  # of the shorter side, from the corner
ISOLATED_MARGIN_SHARE = 0.06  # inside the sticker's cut margin (0.125 in of 4 in)


def draw_draft_mark(canvas: Image.Image, background: tuple[int, int, int] | None = None) -> None:
    """A small 'DRAFT' pill in the bottom-right corner: semi-transparent, or, on the plain
    `background` of an isolated subject, opaque and in its opposite tone."""
    w, h = canvas.size
    pill_colour, label_colour, opacity, margin_share = PILL_COLOUR, LABEL_COLOUR, PILL_OPACITY, MARGIN_SHARE
    if background is not None:
        opacity, margin_share = 255, ISOLATED_MARGIN_SHARE
        if sum(background) < 3 * 128:
            pill_colour, label_colour = LABEL_COLOUR, PILL_COLOUR
    size = max(8, round(min(w, h) * 0.022))
    font = load_font(size)
    left, top, right, bottom = font.getbbox(LABEL)
    pad_x, pad_y = size * 0.7, size * 0.35
    box_w, box_h = round(right - left + 2 * pad_x), round(bottom - top + 2 * pad_y)
    margin = max(2, round(min(w, h) * margin_share))
    x, y = w - margin - box_w, h - margin - box_h
    pill = Image.new("L", (box_w, box_h), 0)
    ImageDraw.Draw(pill).rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=box_h // 2, fill=opacity)
    canvas.paste(pill_colour, (x, y), pill)
    ImageDraw.Draw(canvas).text((x + pad_x - left, y + pad_y - top), LABEL, font=font, fill=label_colour)
