"""The small 'DRAFT' mark that tells a draft from a generated design."""

from __future__ import annotations

from PIL import Image, ImageDraw

from core.imaging.fonts import load_font

LABEL = "DRAFT"
PILL_COLOUR = (20, 20, 24)
PILL_OPACITY = 150
LABEL_COLOUR = (245, 245, 245)


def draw_draft_mark(canvas: Image.Image) -> None:
    """A small semi-transparent 'DRAFT' pill in the bottom-right corner."""
    w, h = canvas.size
    size = max(8, round(min(w, h) * 0.022))
    font = load_font(size)
    left, top, right, bottom = font.getbbox(LABEL)
    pad_x, pad_y = size * 0.7, size * 0.35
    box_w, box_h = round(right - left + 2 * pad_x), round(bottom - top + 2 * pad_y)
    margin = max(2, round(min(w, h) * 0.018))
    x, y = w - margin - box_w, h - margin - box_h
    pill = Image.new("L", (box_w, box_h), 0)
    ImageDraw.Draw(pill).rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=box_h // 2, fill=PILL_OPACITY)
    canvas.paste(PILL_COLOUR, (x, y), pill)
    ImageDraw.Draw(canvas).text((x + pad_x - left, y + pad_y - top), LABEL, font=font, fill=LABEL_COLOUR)
