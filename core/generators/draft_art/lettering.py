"""The subject as lettering: the title text, the band it may sit on, and the style's effect
(outline, shadow, glow, sticker border, or blown-up pixels)."""

from __future__ import annotations

from PIL import Image, ImageDraw

from core.generators.draft_art.geometry import Size, pixel_size, reduced
from core.generators.draft_art.layout import Layout
from core.generators.draft_art.looks import Look
from core.generators.draft_art.palette import Scheme
from core.generators.draft_art.typesetting import fit_text, text_mask
from core.imaging.colour import RGB, WHITE, luminance, mix
from core.imaging.masks import blurred

MAX_SUBJECT_WORDS = 9


def title_text(subject: str, look: Look) -> str:
    """The subject's first words, in capitals if the look wants them."""
    words = subject.split()[:MAX_SUBJECT_WORDS]
    text = " ".join(words)
    return text.upper() if look.uppercase else text


def draw_title(canvas: Image.Image, text: str, layout: Layout, look: Look, scheme: Scheme) -> None:
    """`text` fitted into the layout's text box with the look's lettering; plain lettering on a
    band for badge and pattern layouts. Nothing for empty text."""
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
    shade = mix(scheme.accents[0], scheme.ink, 0.4)
    draw.polygon(tail, fill=shade, outline=scheme.ink, width=line)
    draw.polygon([(2 * ((x0 + x1) / 2) - x, y) for x, y in tail], fill=shade, outline=scheme.ink, width=line)
    draw.rectangle((x0 + notch * 0.4, y0, x1 - notch * 0.4, y1), fill=scheme.accents[0], outline=scheme.ink, width=line)


def _draw_lettering(
    canvas: Image.Image, text: str, at: tuple[int, int], box: Size, lettering: str, scheme: Scheme, on_band: bool
) -> None:
    """The subject fitted to `box`, with its effect drawn underneath: an offset shadow, an
    outline with a drop, a glow, or a thick sticker border."""
    lines, font, size = fit_text(text, box[0], box[1])
    stroke = max(1, round(size / 14))
    offset = max(1, round(size / 16))
    fill, edge = _title_colours(lettering, scheme, on_band)
    letters = text_mask(box, lines, font, 0)
    dropped = (at[0] + offset, at[1] + offset)
    if lettering == "shadow":
        canvas.paste(edge, dropped, letters)
    elif lettering == "glow":
        canvas.paste(edge, at, blurred(text_mask(box, lines, font, stroke * 2), size * 0.25))
    elif lettering in ("outline", "sticker"):
        if lettering == "sticker":
            border = text_mask(box, lines, font, stroke * 3)
            canvas.paste(scheme.ink, dropped, border)
            canvas.paste(scheme.paper if luminance(scheme.ground) < 0.5 else WHITE, at, border)
        outlined = text_mask(box, lines, font, stroke)
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
        return mix(scheme.paper, WHITE, 0.6), scheme.accents[0]
    if lettering == "shadow":
        return scheme.ink, scheme.accents[0]
    return scheme.ink, scheme.ink


def _draw_pixel_title(canvas: Image.Image, text: str, at: tuple[int, int], box: Size, scheme: Scheme) -> None:
    """Lettering drawn small and blown up without smoothing, so it reads as pixels."""
    px = pixel_size(canvas.size)
    small = reduced(box, px, 4)
    lines, font, _ = fit_text(text, small[0], small[1])
    mask = text_mask(small, lines, font, 0).point(lambda v: 255 if v > 110 else 0)
    mask = mask.resize(box, Image.Resampling.NEAREST)
    canvas.paste(scheme.accents[0], (at[0] + px, at[1] + px), mask)
    canvas.paste(mix(scheme.accents[2], scheme.paper, 0.2), at, mask)
