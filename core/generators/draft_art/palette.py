"""A style palette split into colour roles, recoloured by the brief's colour words and mood."""

from __future__ import annotations

from dataclasses import dataclass

from core.imaging.colour import RGB, WHITE, from_hls, luminance, mix, parse_colour, to_hls

FALLBACK_PALETTE = ("#264653", "#e76f51", "#f4a261", "#2a9d8f", "#f1faee")
NEAR_BLACK: RGB = (10, 8, 16)
# mood -> lightness shift applied to every colour of the scheme
MOOD_LIGHTNESS = {
    "dark": -0.14,
    "moody": -0.08,
    "fierce": -0.04,
    "epic": -0.03,
    "joyful": 0.06,
    "playful": 0.05,
    "dreamy": 0.05,
    "calm": 0.03,
}


@dataclass(frozen=True)
class Scheme:
    """The palette split into roles."""

    ground: RGB
    ground_far: RGB
    accents: tuple[RGB, RGB, RGB]
    ink: RGB
    paper: RGB


def scheme_from_palette(palette: list[str], requested: list[str], dark_ground: bool, mood: str | None) -> Scheme:
    """Roles from the style palette: darkest and lightest become ground and ink, the rest
    accents. Chromatic colours the brief asks for take the accent slots; black or white
    asked for becomes the ground; 'pastel', 'monochrome', 'sepia' and the mood recolour."""
    colours = _palette_colours(palette)
    dark, light = min(colours, key=luminance), max(colours, key=luminance)
    accents = [c for c in colours if c not in (dark, light)]
    words = [w.strip().lower() for w in requested]
    asked = [c for c in map(parse_colour, words) if c]
    for neutral in filter(_is_neutral_extreme, asked):
        dark_ground = luminance(neutral) < 0.5
        dark, light = (neutral, light) if dark_ground else (dark, neutral)
    accents = ([c for c in asked if not _is_neutral_extreme(c)] + accents + [dark, light, mix(dark, light, 0.5)])[:3]
    if dark_ground and luminance(dark) > 0.16:  # a palette with no dark colour still needs a dark ground
        dark = mix(dark, NEAR_BLACK, 0.75)
    ground, ink = (dark, light) if dark_ground else (light, dark)
    paper = light if dark_ground else mix(light, WHITE, 0.5)
    shift = MOOD_LIGHTNESS.get((mood or "").lower(), 0.0)

    def tone(c: RGB, is_accent: bool = False) -> RGB:
        return _shift_lightness(_treated(c, words, is_accent), shift)

    return Scheme(
        ground=tone(ground),
        ground_far=tone(mix(ground, accents[0], 0.28)),
        accents=(tone(accents[0], True), tone(accents[1], True), tone(accents[2], True)),
        ink=tone(ink),
        paper=tone(paper),
    )


def _palette_colours(palette: list[str]) -> list[RGB]:
    """At least five colours: the palette's readable ones (or the fallback), padded with greyed copies."""
    colours = [c for c in map(parse_colour, palette) if c]
    if not colours:
        colours = [c for c in map(parse_colour, FALLBACK_PALETTE) if c]
    while len(colours) < 5:
        colours.append(mix(colours[len(colours) % len(colours)], (128, 128, 128), 0.35))
    return colours


def _is_neutral_extreme(c: RGB) -> bool:
    """Near-black or near-white, and not colourful: asked for, it becomes the ground."""
    _, lightness, saturation = to_hls(c)
    return (lightness < 0.15 or lightness > 0.85) and saturation < 0.35


def _treated(c: RGB, words: list[str], is_accent: bool) -> RGB:
    """Colour words that are treatments rather than colours (pastel softens accents only)."""
    h, l, s = to_hls(c)  # noqa: E741
    if "pastel" in words and is_accent:
        l, s = 0.72 + l * 0.15, min(s, 0.65)  # noqa: E741
    if "monochrome" in words:
        s = 0.0
    if "sepia" in words:
        h, s = 0.09, min(s, 0.45)
    return from_hls(h, l, s)


def _shift_lightness(c: RGB, shift: float) -> RGB:
    if not shift:
        return c
    h, l, s = to_hls(c)  # noqa: E741
    return from_hls(h, l + shift * (1 - l if shift > 0 else l) * 2, s)
