"""render_draft: the brief's look, colours and layout, drawn in numbered steps and encoded as PNG."""

from __future__ import annotations

import random

from core.generators.draft_art.backgrounds import BACKGROUNDS
from core.generators.draft_art.draft_mark import draw_draft_mark
from core.generators.draft_art.emblem_placement import draw_emblem, draw_pattern
from core.generators.draft_art.emblems import EMBLEMS
from core.generators.draft_art.geometry import centre
from core.generators.draft_art.layout import layout_for
from core.generators.draft_art.lettering import draw_title, title_text
from core.generators.draft_art.looks import look_for
from core.generators.draft_art.palette import scheme_from_palette
from core.imaging.png import encode_png
from core.parsing.models import ParsedPrompt

MIN_SIDE_PX = 32
MAX_SIDE_PX = 8192
PNG_COMPRESS_LEVEL = 2  # a draft is encoded on every request: speed over size


def render_draft(brief: ParsedPrompt, palette: list[str], width: int, height: int, seed: int) -> bytes:
    """PNG bytes of a width x height design. Deterministic for (brief, palette, size, seed).

    Raises ValueError naming `width` or `height` when a side is not an int in 32..8192."""
    _check_inputs(width, height)
    rng = random.Random(seed)
    look = look_for(brief.style)
    scheme = scheme_from_palette(palette, brief.colors, look.dark_ground, brief.mood)
    layout = layout_for(width, height, brief.composition, look.emblem_scale)
    # 1. background, centred on the emblem
    canvas = BACKGROUNDS[look.background]((width, height), scheme, rng, centre(layout.emblem))
    # 2. the emblem (or a pattern of small ones)
    painter = EMBLEMS[rng.choice(look.emblems)]
    if layout.pattern:
        draw_pattern(canvas, painter, look, scheme, rng)
    else:
        draw_emblem(canvas, layout, painter, look, scheme, rng)
    # 3. the subject as lettering, then the DRAFT mark
    draw_title(canvas, title_text(brief.subject, look), layout, look, scheme)
    draw_draft_mark(canvas)
    return encode_png(canvas, compress_level=PNG_COMPRESS_LEVEL)


def _check_inputs(width: int, height: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, int) or not MIN_SIDE_PX <= value <= MAX_SIDE_PX:
            raise ValueError(f"{name} must be an int between {MIN_SIDE_PX} and {MAX_SIDE_PX}, got {value!r}")
