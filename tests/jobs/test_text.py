"""core.jobs.text: the one normalisation every text the image model receives goes through."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequest
from core.jobs.text import RAW_SLACK, clean_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Pik\u200bachu", "Pikachu"),  # zero-width space
        ("Pi\u200dka\u200cchu\u2060", "Pikachu"),  # joiners, word joiner
        ("\ufeffPikachu\u00ad", "Pikachu"),  # byte-order mark, soft hyphen
        ("Pika\u034fchu", "Pikachu"),  # combining grapheme joiner (not a format character)
        ("\u202ePikachu\u202c", "Pikachu"),  # bidi overrides
        ("Pika\U000e0041chu", "Pikachu"),  # a tag character
        ("ｐｉｋａｃｈｕ", "pikachu"),  # fullwidth letters (NFKC)
        ("a\tred\r\nfox\x0b in\u00a0the\u3000snow", "a red fox in the snow"),  # whitespace of every kind
        ("a red\x1b[31m fox\x07", "a red[31m fox"),  # control characters removed
        ("  café  au lait ", "café au lait"),
    ],
)
def test_text_is_nfkc_without_invisible_or_control_characters_and_single_spaced(raw, clean):
    assert clean_text(raw, "prompt", 100) == clean


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("a red\x00fox", r"^negative_prompt contains a NUL character \(U\+0000\)"),
        ("a red \ud800 fox", r"^negative_prompt contains an unpaired surrogate \(U\+D800\)"),
        ("\udfff", r"^negative_prompt contains an unpaired surrogate \(U\+DFFF\)"),
    ],
    ids=["nul", "high-surrogate", "low-surrogate"],
)
def test_a_nul_or_a_lone_surrogate_is_refused_naming_the_field(raw, message):
    with pytest.raises(InvalidRequest, match=message):
        clean_text(raw, "negative_prompt", 100)


def test_the_limit_counts_the_normalised_text():
    assert clean_text("fox" + "\u200b" * 20 + "  " * 5, "subject", 10) == "fox"
    assert len(clean_text("x" * 10, "subject", 10)) == 10
    with pytest.raises(InvalidRequest, match=r"^subject is too long: 11 characters, the limit is 10$"):
        clean_text("x" * 11, "subject", 10)
    with pytest.raises(InvalidRequest, match="subject is too long"):
        clean_text("\ufdfa", "subject", 10)  # one character whose NFKC form is 18


def test_text_far_over_its_limit_is_refused_before_it_is_normalised():
    with pytest.raises(InvalidRequest, match=f"mood is too long: {10 * RAW_SLACK + 1} characters"):
        clean_text(" " * (10 * RAW_SLACK + 1), "mood", 10)


def test_none_is_empty_text():
    assert clean_text(None, "mood", 10) == ""
