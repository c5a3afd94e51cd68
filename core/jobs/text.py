"""User text as the service stores it and the image model receives it: one normalisation for
every field (the idea, the brief's fields, the negative prompts).

`clean_text` refuses what no store or model should get (a NUL, an unpaired surrogate, a
field past its limit) with a message naming the field, and otherwise returns the text in
NFKC form with invisible characters removed and whitespace collapsed, so what a person sees
is what the policy checks: "Pik\\u200bachu" is "Pikachu", "ｐｉｋａｃｈｕ" is "pikachu".
"""

from __future__ import annotations

import unicodedata

from core.errors import InvalidRequest

# Text this many times its limit is refused before it is normalised: NFKC and the character
# scan are linear, but a 20 MB field should cost nothing.
RAW_SLACK = 4

# Default-ignorable characters outside the format category (Cf, removed as a whole): the
# combining grapheme joiner, Hangul and Khmer fillers, variation selectors. They draw nothing
# and would split a word in two for the policy.
_INVISIBLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0x180B, 0x1810), *range(0xFE00, 0xFE10),
     *range(0xE0100, 0xE01F0)]
)


def clean_text(value: object, field: str, max_chars: int) -> str:
    """`value` as a single-line, NFKC-normalised text of at most `max_chars` characters.

    Tabs, newlines and other whitespace become single spaces; control and zero-width
    characters are removed. InvalidRequest (naming `field`) for a NUL character, an unpaired
    surrogate or text over the limit. None counts as "".
    """
    text = "" if value is None else str(value)
    if len(text) > max_chars * RAW_SLACK:
        raise _too_long(field, len(text), max_chars)
    if "\x00" in text:
        raise InvalidRequest(f"{field} contains a NUL character (U+0000): remove it")
    surrogate = next((ch for ch in text if 0xD800 <= ord(ch) <= 0xDFFF), None)
    if surrogate is not None:
        raise InvalidRequest(
            f"{field} contains an unpaired surrogate (U+{ord(surrogate):04X}), which is not a character: "
            "send the text as valid UTF-8"
        )
    kept = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch.isspace():
            kept.append(" ")
        elif unicodedata.category(ch) not in ("Cc", "Cf") and ord(ch) not in _INVISIBLE:
            kept.append(ch)
    clean = " ".join("".join(kept).split())
    if len(clean) > max_chars:
        raise _too_long(field, len(clean), max_chars)
    return clean


def _too_long(field: str, length: int, max_chars: int) -> InvalidRequest:
    return InvalidRequest(f"{field} is too long: {length} characters, the limit is {max_chars}")
