"""How each catalog style is drawn: its background, emblems, lettering and emblem finish."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Look:
    """How one style family is drawn. `background` names an entry of backgrounds.BACKGROUNDS,
    `emblems` entries of emblems.EMBLEMS; `lettering` and `finish` are effects drawn by
    lettering.py and emblem_placement.py."""

    background: str
    emblems: tuple[str, ...]  # the seed picks one
    lettering: str  # "outline" | "shadow" | "glow" | "sticker" | "pixel" | "plain"
    finish: str = ""  # how the emblem sits: "shadow" | "glow" | "die-cut" | "drips" | "wash" | "pixelate"
    dark_ground: bool = False
    uppercase: bool = True
    emblem_scale: float = 1.0


LOOKS = {
    "anime": Look("sunburst", ("peaks", "burst"), "outline", "shadow"),
    "watercolor": Look("washes", ("hills", "peaks"), "plain", "wash", uppercase=False),
    "vintage-poster": Look("halftone", ("peaks", "sunset-sea"), "shadow", "shadow"),
    "line-art": Look("frame", ("line",), "plain", uppercase=False),
    "pixel-art": Look("pixels", ("peaks", "sunset-sea"), "pixel", "pixelate", dark_ground=True),
    "cyberpunk-neon": Look("neon-grid", ("sunset-grid",), "glow", "glow", dark_ground=True),
    "ukiyo-e": Look("seigaiha", ("fuji",), "shadow"),
    "sticker": Look("dots", ("burst", "sunset-sea"), "sticker", "die-cut", dark_ground=True, emblem_scale=0.84),
    "photoreal": Look("studio", ("orbs",), "plain", dark_ground=True, uppercase=False),
    "3d-render": Look("studio", ("orbs",), "sticker"),
    "graffiti": Look("spray", ("burst",), "sticker", "drips", dark_ground=True),
    "retro-70s": Look("waves", ("sunset-sea", "hills"), "shadow", "shadow", emblem_scale=0.8),
}
DEFAULT_LOOK = Look("gradient", ("peaks", "burst"), "outline", "shadow")


def look_for(style: str) -> Look:
    """The look of a catalog style id; a plain gradient look for styles it does not know."""
    return LOOKS.get(style, DEFAULT_LOOK)
