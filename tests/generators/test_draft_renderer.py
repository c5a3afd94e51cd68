"""The offline draft renderer: real PNG designs from a brief, deterministic per seed."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image, ImageStat

from core.catalog import load_catalog
from core.generators.draft_art import render_draft
from core.imaging import fonts
from core.imaging.colour import COLOUR_WORDS
from core.imaging.png_check import PNG_SIGNATURE, check_png
from core.parsing.models import ParsedPrompt

STYLES = load_catalog().styles
SMALL = (320, 400)  # small canvases keep the suite fast; layout scales with the size


def _brief(**changes: object) -> ParsedPrompt:
    fields: dict[str, object] = {
        "subject": "fox spirit",
        "style": "anime",
        "colors": [],
        "mood": None,
        "composition": "centered",
        "product": "t-shirt",
        "aspect_ratio": "1104:1472",
        "width": 1104,
        "height": 1472,
        "prompt": "fox spirit, anime illustration",
        "negative_prompt": "blurry",
    }
    fields.update(changes)
    return ParsedPrompt.model_validate(fields)


def _render(brief: ParsedPrompt, size: tuple[int, int] = SMALL, seed: int = 7) -> bytes:
    palette = STYLES[brief.style].palette if brief.style in STYLES else []
    return render_draft(brief, palette, size[0], size[1], seed)


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _has_colour(png: bytes, hex_colour: str) -> bool:
    wanted = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    image = _image(png)
    colours = image.getcolors(maxcolors=image.width * image.height) or []
    return any(rgb == wanted for _, rgb in colours)


@pytest.mark.parametrize("size", [(1104, 1472), (1664, 928), (1328, 1328), (64, 48)])
def test_draft_is_a_png_of_the_requested_size(size: tuple[int, int]) -> None:
    png = _render(_brief(), size)

    assert png.startswith(PNG_SIGNATURE)
    assert check_png(png) == size
    assert _image(png).mode == "RGB"


def test_same_seed_gives_identical_bytes() -> None:
    assert _render(_brief(), seed=42) == _render(_brief(), seed=42)


def test_another_seed_gives_another_design() -> None:
    designs = {_render(_brief(), seed=seed) for seed in range(4)}

    assert len(designs) == 4


@pytest.mark.parametrize("style_id", sorted(STYLES))
def test_every_catalog_style_renders(style_id: str) -> None:
    png = _render(_brief(style=style_id, subject="mountain lake at dawn"))

    image = _image(png)
    assert image.size == SMALL
    assert len(image.getcolors(maxcolors=SMALL[0] * SMALL[1]) or []) > 20  # a design, not a flat fill


def test_styles_look_different_from_each_other() -> None:
    designs = {_render(_brief(style=style_id)) for style_id in STYLES}

    assert len(designs) == len(STYLES)


def test_long_subject_is_wrapped_without_error() -> None:
    subject = (
        "an extraordinarily majestic nine tailed fox spirit dancing beneath a canopy of "
        "glowing cherry blossoms at midnight supercalifragilisticexpialidocious"
    )
    png = _render(_brief(subject=subject), (1104, 1472))

    assert check_png(png) == (1104, 1472)


def test_empty_subject_still_gives_a_design() -> None:
    assert check_png(_render(_brief(subject="   "))) == SMALL


def test_colour_words_in_the_brief_change_the_palette() -> None:
    plain = _render(_brief())
    red = _render(_brief(colors=["red"]))

    assert red != plain
    assert _has_colour(red, COLOUR_WORDS["red"])
    assert not _has_colour(plain, COLOUR_WORDS["red"])


def test_hex_colours_in_the_brief_are_used_as_given() -> None:
    assert _has_colour(_render(_brief(colors=["#12ab34"])), "#12ab34")


def test_unknown_colour_words_are_ignored() -> None:
    assert _render(_brief(colors=["sparkly"])) == _render(_brief())


def test_a_dark_mood_darkens_the_design() -> None:
    def brightness(png: bytes) -> float:
        return sum(ImageStat.Stat(_image(png).convert("L")).mean)

    assert brightness(_render(_brief(mood="dark"))) < brightness(_render(_brief()))


@pytest.mark.parametrize("composition", ["badge", "pattern", "full body", "close-up"])
def test_composition_hints_change_the_layout(composition: str) -> None:
    png = _render(_brief(composition=composition))

    assert check_png(png) == SMALL
    assert png != _render(_brief(composition="centered"))


def test_unknown_style_and_empty_palette_still_render() -> None:
    png = render_draft(_brief(style="not-in-the-catalog"), [], 300, 300, seed=1)

    assert check_png(png) == (300, 300)


def test_draft_mark_sits_in_the_bottom_right_corner() -> None:
    image = _image(_render(_brief(style="pixel-art"), (800, 800)))
    corner = image.crop((680, 740, 800, 800))
    elsewhere = image.crop((0, 0, 120, 60))

    mark_ink = (245, 245, 245)
    assert any(rgb == mark_ink for _, rgb in corner.getcolors(maxcolors=120 * 60) or [])
    assert not any(rgb == mark_ink for _, rgb in elsewhere.getcolors(maxcolors=120 * 60) or [])


def test_renders_without_any_truetype_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_font_source", lambda: None)

    assert check_png(_render(_brief())) == SMALL


def test_parallel_renders_in_worker_threads_give_identical_bytes() -> None:
    brief = _brief(style="cyberpunk-neon")
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: _render(brief, (600, 800)), range(4)))

    assert len(set(results)) == 1


@pytest.mark.parametrize(("width", "height", "named"), [(0, 100, "width"), (100, -1, "height"), (9000, 100, "width")])
def test_a_size_out_of_bounds_is_refused_naming_the_parameter(width: int, height: int, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        render_draft(_brief(), STYLES["anime"].palette, width, height, seed=1)
