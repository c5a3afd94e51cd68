"""Setting text in a box: wrapped on one to three balanced lines, sized to fill the box,
and drawn centred into a mask."""

from __future__ import annotations

from PIL import Image, ImageDraw

from core.generators.draft_art.geometry import Size
from core.imaging.fonts import Font, line_height, line_top, load_font

MIN_FONT_PX = 6


def fit_text(text: str, box_w: int, box_h: int) -> tuple[list[str], Font, int]:
    """The wrapping (1 to 3 lines), font and font size that make `text` largest inside the box."""
    words = text.split()
    reference = load_font(100)
    best: tuple[list[str], int] = ([text], 1)
    for count in range(1, min(3, len(words)) + 1):
        lines = _split_lines(words, count)
        widest = max(reference.getlength(line) for line in lines) or 1.0
        by_width = box_w / (widest * 1.08) * 100
        by_height = box_h / (len(lines) * line_height(reference) * 1.18) * 100
        size = int(min(by_width, by_height))
        if size > best[1] * 1.04:
            best = (lines, size)
    lines, size = best
    size = max(MIN_FONT_PX, size)
    font = load_font(size)
    while size > MIN_FONT_PX and max(font.getlength(line) for line in lines) * 1.08 > box_w:
        size = int(size * 0.94)
        font = load_font(size)
    return lines, font, size


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


def text_mask(size: Size, lines: list[str], font: Font, stroke: int) -> Image.Image:
    """`lines` drawn centred in a mask of `size`, each glyph thickened by a `stroke` px outline."""
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    line_h = line_height(font)
    gap = round(line_h * 0.14)
    total = len(lines) * line_h + (len(lines) - 1) * gap
    y = (size[1] - total) / 2
    top_offset = line_top(font)
    for line in lines:
        length = font.getlength(line)
        draw.text(
            ((size[0] - length) / 2, y - top_offset), line, font=font, fill=255, stroke_width=stroke, stroke_fill=255
        )
        y += line_h + gap
    return mask
