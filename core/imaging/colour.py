"""Colours as RGB tuples: colour words and hex codes read, mixed, and measured."""

from __future__ import annotations

import colorsys
import re

RGB = tuple[int, int, int]

WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
COLOUR_WORDS = {
    "red": "#e63946",
    "crimson": "#b3123b",
    "scarlet": "#ff2e1f",
    "orange": "#f77f00",
    "amber": "#ffb000",
    "yellow": "#ffd60a",
    "gold": "#d4a017",
    "golden": "#e0b32e",
    "green": "#2a9d3f",
    "lime": "#a7e22e",
    "emerald": "#1f9e6e",
    "teal": "#1a9c9c",
    "turquoise": "#30d5c8",
    "cyan": "#00d4ff",
    "blue": "#1e6fd9",
    "navy": "#1b2a4a",
    "cobalt": "#0047ab",
    "indigo": "#3f2b96",
    "purple": "#7b2cbf",
    "violet": "#8f5cf7",
    "magenta": "#e0218a",
    "pink": "#ff6fae",
    "rose": "#f25c7a",
    "brown": "#7a4a2b",
    "beige": "#e8d8b8",
    "cream": "#f6efdc",
    "black": "#111111",
    "white": "#fafafa",
    "grey": "#8d8d8d",
    "gray": "#8d8d8d",
    "silver": "#c0c0c8",
    "neon": "#39ff14",
}
HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


def parse_colour(value: str) -> RGB | None:
    """The colour named by a colour word or a hex code (6 or 3 digits, '#' optional); None otherwise."""
    word = value.strip().lower()
    word = COLOUR_WORDS.get(word, word)
    match = HEX_COLOUR.fullmatch(word)
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def hex_rgb(value: str) -> RGB:
    """The colour of a hex code or colour word, for values the catalog guarantees; ValueError otherwise."""
    colour = parse_colour(value)
    if colour is None:
        raise ValueError(f"not a colour: {value!r}")
    return colour


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """The colour `t` of the way from `a` to `b`."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def luminance(c: RGB) -> float:
    """Relative luminance, 0 (black) to 1 (white)."""
    return (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255


def to_hls(c: RGB) -> tuple[float, float, float]:
    """Hue, lightness and saturation, each 0 to 1."""
    return colorsys.rgb_to_hls(c[0] / 255, c[1] / 255, c[2] / 255)


def from_hls(h: float, l: float, s: float) -> RGB:  # noqa: E741 (the usual name)
    """The RGB colour of hue, lightness and saturation (lightness and saturation clamped to 0..1)."""
    r, g, b = colorsys.hls_to_rgb(h, min(1.0, max(0.0, l)), min(1.0, max(0.0, s)))
    return round(r * 255), round(g * 255), round(b * 255)


def vividness(c: RGB) -> float:
    """How saturated and mid-light a colour is: 1 for a pure hue, 0 for greys, black and white."""
    _, lightness, saturation = to_hls(c)
    return saturation * (1 - abs(lightness - 0.5) * 2)
