"""Where the emblem and the lettering go, from the canvas shape and the brief's composition hint."""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.generators.draft_art.geometry import Box, centre


@dataclass(frozen=True)
class Layout:
    """Where the emblem and the lettering go, in canvas pixels."""

    emblem: Box
    text: Box
    shape: str = "circle"  # or "arch"
    banner: bool = False  # lettering on a ribbon across the emblem
    pattern: bool = False  # small emblems tiled, lettering on a band


def layout_for(width: int, height: int, composition: str | None, emblem_scale: float = 1.0) -> Layout:
    """The layout for a canvas: 'pattern'/'seamless' tiles small emblems, 'badge'/'emblem'/'logo'/'icon'
    puts the lettering on a ribbon, 'full body'/'portrait' makes an arch; otherwise emblem beside the
    lettering on wide canvases and above it elsewhere ('close' makes the emblem bigger)."""
    hint = (composition or "").lower()
    margin = round(min(width, height) * 0.07)
    pattern = any(word in hint for word in ("pattern", "seamless"))
    banner = any(word in hint for word in ("badge", "emblem", "logo", "icon"))
    shape = "arch" if "full body" in hint or "portrait" in hint else "circle"
    if pattern:
        band = round(height * 0.22)
        text = (margin, (height - band) // 2, width - margin, (height + band) // 2)
        return Layout(emblem=(0, 0, width, height), text=text, shape=shape, pattern=True)
    if banner:
        layout = _banner_layout(width, height, margin, shape)
    elif width > height * 1.25:
        layout = _side_by_side_layout(width, height, margin, shape)
    else:
        layout = _stacked_layout(width, height, margin, shape, hint)
    return replace(layout, emblem=_scaled(layout.emblem, emblem_scale))


def _banner_layout(width: int, height: int, margin: int, shape: str) -> Layout:
    side = min(width, height) - 3 * margin
    cx, cy = width // 2, height // 2
    ew = round(side * 0.74) if shape == "arch" else side
    ribbon_w = min(width - margin, round(side * 1.15))
    ribbon_h = round(side * 0.2)
    ribbon_y = cy + round(side * 0.28)
    text = (cx - ribbon_w // 2, ribbon_y, cx + ribbon_w // 2, ribbon_y + ribbon_h)
    emblem = (cx - ew // 2, cy - side // 2, cx + ew // 2, cy + side // 2)
    return Layout(emblem=emblem, text=text, shape=shape, banner=True)


def _side_by_side_layout(width: int, height: int, margin: int, shape: str) -> Layout:
    side = min(height - 2 * margin, round(width * 0.42))
    ew = round(side * 0.74) if shape == "arch" else side
    cx, cy = margin + round(width * 0.45 - margin) // 2, height // 2
    emblem = (cx - ew // 2, cy - side // 2, cx + ew // 2, cy + side // 2)
    return Layout(emblem=emblem, text=(round(width * 0.5), margin, width - margin, height - margin), shape=shape)


def _stacked_layout(width: int, height: int, margin: int, shape: str, hint: str) -> Layout:
    """Emblem above lettering, the pair centred vertically (tall canvases leave no gap)."""
    close = "close" in hint
    text_h = round(height * (0.19 if close else 0.25))
    gap = margin // 2
    avail_h = height - 2 * margin - text_h - gap
    if shape == "arch":
        eh = min(avail_h, round((width - 2 * margin) * 1.35))
        ew = min(round(eh * 0.74), width - 2 * margin)
    else:
        ew = eh = min(width - margin, avail_h + gap) if close else min(width - 2 * margin, avail_h)
    top = (height - (eh + gap + text_h)) // 2
    cx = width // 2
    text_top = top + eh + gap
    emblem = (cx - ew // 2, top, cx + ew // 2, top + eh)
    return Layout(emblem=emblem, text=(margin, text_top, width - margin, text_top + text_h), shape=shape)


def _scaled(box: Box, factor: float) -> Box:
    cx, cy = centre(box)
    hw, hh = round((box[2] - box[0]) * factor / 2), round((box[3] - box[1]) * factor / 2)
    return cx - hw, cy - hh, cx + hw, cy + hh
