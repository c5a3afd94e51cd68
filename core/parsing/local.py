"""A deterministic, offline prompt parser: word lists and the style catalog, no model."""

from __future__ import annotations

import re

from core.catalog import Catalog
from core.parsing.models import ParsedPrompt

COLOR_WORDS = (
    "red", "crimson", "scarlet", "orange", "amber", "yellow", "gold", "golden", "green", "lime",
    "emerald", "teal", "turquoise", "cyan", "blue", "navy", "cobalt", "indigo", "purple", "violet",
    "magenta", "pink", "rose", "brown", "beige", "cream", "black", "white", "grey", "gray", "silver",
    "pastel", "neon", "monochrome", "sepia",
)
MOOD_WORDS = {
    "happy": "joyful", "joyful": "joyful", "cheerful": "joyful", "cute": "playful", "kawaii": "playful",
    "playful": "playful", "funny": "playful", "dark": "dark", "gothic": "dark", "creepy": "dark",
    "spooky": "dark", "moody": "moody", "melancholic": "moody", "sad": "moody", "calm": "calm",
    "serene": "calm", "peaceful": "calm", "epic": "epic", "heroic": "epic", "majestic": "epic",
    "fierce": "fierce", "angry": "fierce", "dreamy": "dreamy", "magical": "dreamy", "mystical": "dreamy",
    "retro": "nostalgic", "nostalgic": "nostalgic", "vintage": "nostalgic", "elegant": "elegant",
}
COMPOSITION_PHRASES = (
    "full body", "close-up", "close up", "portrait", "centered", "centred", "pattern", "seamless",
    "badge", "emblem", "logo", "icon", "landscape", "wide shot", "top view", "side view", "symmetrical",
)
# generic words removed from the subject; so are the chosen style's own name words
GENERIC_WORDS = ("in the style of", "style", "illustration", "design", "artwork", "lights", "light", "colors", "colours")
FILLER_WORDS = ("a", "an", "the", "with", "and", "of", "in", "on", "for", "please", "make", "me", "create", "draw", "generate")
PRINT_NEGATIVE = "text, watermark, signature, lowres, jpeg artifacts, cropped, frame, mockup"
PRINT_SUFFIX = "print-ready merch design, crisp edges, high detail"


def _find_words(text: str, words: tuple[str, ...]) -> list[str]:
    found = []
    for word in words:
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) and word not in found:
            found.append(word)
    return found


def _strip_words(text: str, words: list[str] | tuple[str, ...]) -> str:
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", " ", text)
    return text


def _subject(text: str, removed: list[str]) -> str:
    stripped = _strip_words(text, [*removed, *GENERIC_WORDS])
    tokens = [t for t in re.split(r"[\s,;.!?]+", stripped) if t]
    while tokens and tokens[0] in FILLER_WORDS:
        tokens.pop(0)
    while tokens and tokens[-1] in FILLER_WORDS:
        tokens.pop()
    return " ".join(tokens)


class LocalPromptParser:
    """Extracts subject, colours, mood and composition with word lists; deterministic."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def parse(self, prompt: str, style: str, product: str) -> ParsedPrompt:
        chosen_style = self._catalog.style(style)
        chosen_product = self._catalog.product(product)
        text = " ".join(prompt.lower().split())
        colors = _find_words(text, COLOR_WORDS)
        mood_words = _find_words(text, tuple(MOOD_WORDS))
        compositions = _find_words(text, COMPOSITION_PHRASES)
        style_words = [chosen_style.id, *chosen_style.name.lower().split()]
        subject = _subject(text, [*colors, *mood_words, *compositions, *style_words]) or " ".join(prompt.split())
        mood = MOOD_WORDS[mood_words[0]] if mood_words else None
        composition = compositions[0] if compositions else ("centered" if chosen_product.transparent_background else None)
        width, height = chosen_product.generation_size

        parts = [subject, chosen_style.prompt_suffix]
        if colors:
            parts.append(f"{' and '.join(colors)} color scheme")
        if mood:
            parts.append(f"{mood} mood")
        if composition:
            parts.append(f"{composition} composition")
        if chosen_product.transparent_background:
            parts.append("isolated on a plain background")
        parts.append(PRINT_SUFFIX)
        return ParsedPrompt(
            subject=subject,
            style=chosen_style.id,
            colors=colors,
            mood=mood,
            composition=composition,
            product=chosen_product.id,
            aspect_ratio=chosen_product.aspect_ratio,
            width=width,
            height=height,
            prompt=", ".join(parts),
            negative_prompt=f"{chosen_style.negative_prompt}, {PRINT_NEGATIVE}",
            parser="local",
        )
