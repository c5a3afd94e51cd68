"""render_draft: the brief's look, colours and layout, drawn in numbered steps and encoded as PNG."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import replace

from PIL import Image

from core.generators.draft_art.backgrounds import BACKGROUNDS
from core.generators.draft_art.draft_mark import draw_draft_mark
from core.generators.draft_art.emblem_placement import draw_emblem, draw_pattern
from core.generators.draft_art.emblems import EMBLEMS
from core.generators.draft_art.geometry import Box, centre
from core.generators.draft_art.isolated import (
    asks_for_plain_background,
    draw_silhouette,
    keep_visible,
    plain_background,
    subject_box,
)
from core.generators.draft_art.layout import Layout, layout_for
from core.generators.draft_art.lettering import draw_title, title_text
from core.generators.draft_art.looks import look_for
from core.generators.draft_art.palette import scheme_from_palette
from core.imaging.colour import RGB
from core.imaging.png import encode_png
from core.parsing.models import ParsedPrompt

MIN_SIDE_PX = 32
MAX_SIDE_PX = 8192
PNG_COMPRESS_LEVEL = 2  # a draft is encoded on every request: speed over size
# a negative prompt naming any of these asks the model for no lettering: the draft draws none
NO_TEXT_WORDS = frozenset({"text", "lettering", "letters", "words", "typography", "writing", "caption"})


def render_draft(
    brief: ParsedPrompt,
    palette: list[str],
    width: int,
    height: int,
    seed: int,
    base_color: RGB | None = None,
    text: Mapping[str, str] | None = None,
) -> bytes:
    """PNG bytes of a width x height design. Deterministic for (brief, palette, size, seed,
    base_color). It draws what the brief's prompt asks of the model: a subject isolated on a
    plain background when the prompt says so (kept visible on `base_color`, the product's
    colour, when given), else a full-bleed design; the subject as lettering only when the
    negative prompt does not ask for no text. `text` goes into the PNG's text chunks.

    Raises ValueError naming `width` or `height` when a side is not an int in 32..8192."""
    _check_inputs(width, height)
    rng = random.Random(seed)
    look = look_for(brief.style)
    scheme = scheme_from_palette(palette, brief.colors, look.dark_ground, brief.mood)
    layout = layout_for(width, height, brief.composition, look.emblem_scale)
    isolated = asks_for_plain_background(brief.prompt)
    lettered = not avoids_text(brief.negative_prompt)
    if isolated:
        layout = _isolated_layout(layout, subject_box(width, height, look.emblem_scale), lettered)
    # 1. background: plain for an isolated subject, else the look's, centred on the emblem
    background = plain_background(base_color) if isolated else None
    if background is not None:
        canvas = Image.new("RGB", (width, height), background)
    else:
        canvas = BACKGROUNDS[look.background]((width, height), scheme, rng, centre(layout.emblem))
    # 2. the emblem (or a pattern of small ones)
    painter = EMBLEMS[rng.choice(look.emblems)]
    if layout.pattern:
        draw_pattern(canvas, painter, look, scheme, rng)
    elif background is not None:
        draw_silhouette(canvas, layout, scheme)
        draw_emblem(canvas, layout, painter, look, scheme, rng)
    else:
        draw_emblem(canvas, layout, painter, look, scheme, rng)
    # 3. the subject as lettering, unless the brief asks for no text
    if lettered:
        draw_title(canvas, title_text(brief.subject, look), layout, look, scheme)
    # 4. an isolated subject kept visible on the product, then the DRAFT mark
    if background is not None and base_color is not None:
        canvas = keep_visible(canvas, background, base_color)
    draw_draft_mark(canvas, background)
    return encode_png(canvas, compress_level=PNG_COMPRESS_LEVEL, text=text)


def avoids_text(negative_prompt: str) -> bool:
    """Whether the negative prompt asks the model for no lettering."""
    return bool(NO_TEXT_WORDS & set(re.findall(r"[a-z]+", negative_prompt.lower())))


def _isolated_layout(layout: Layout, subject: Box, lettered: bool) -> Layout:
    """One subject with space around it (no pattern, nothing touching the edges); centred in
    `subject` when there is no lettering to make room for."""
    if not lettered:
        return Layout(emblem=subject, text=layout.text, shape=layout.shape)
    if layout.pattern:
        return replace(layout, pattern=False, banner=True, emblem=subject)
    return layout


def _check_inputs(width: int, height: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, int) or not MIN_SIDE_PX <= value <= MAX_SIDE_PX:
            raise ValueError(f"{name} must be an int between {MIN_SIDE_PX} and {MAX_SIDE_PX}, got {value!r}")
