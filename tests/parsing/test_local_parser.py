import pytest

from core.catalog import Catalog
from core.errors import InvalidRequest
from core.parsing import LocalPromptParser


@pytest.fixture
def parser(catalog: Catalog) -> LocalPromptParser:
    return LocalPromptParser(catalog)


def test_the_seed_example_becomes_a_full_brief(parser):
    brief = parser.parse("A cyberpunk samurai with neon lights", "anime", "t-shirt")
    assert brief.subject == "cyberpunk samurai"
    assert brief.style == "anime" and brief.product == "t-shirt"
    assert brief.colors == ["neon"]
    assert (brief.width, brief.height) == (1136, 1520)
    assert brief.prompt.startswith("cyberpunk samurai, anime illustration")
    assert "watermark" in brief.negative_prompt
    assert brief.parser == "local"


def test_colours_mood_and_composition_are_extracted(parser):
    brief = parser.parse("a cute red and teal fox, full body", "watercolor", "mug")
    assert brief.colors == ["red", "teal"]
    assert brief.mood == "playful"
    assert brief.composition == "full body"
    assert brief.subject == "fox"
    assert "red and teal color scheme" in brief.prompt


def test_the_product_sets_the_aspect_ratio(parser, catalog: Catalog):
    for product in catalog.products.values():
        brief = parser.parse("a lighthouse", "ukiyo-e", product.id)
        assert (brief.width, brief.height) == product.generation_size
        assert brief.aspect_ratio == f"{product.generation_size[0]}:{product.generation_size[1]}"


def test_parsing_is_deterministic(parser):
    assert parser.parse("a dragon", "pixel-art", "poster") == parser.parse("a dragon", "pixel-art", "poster")


def test_an_unknown_style_names_the_choices(parser):
    with pytest.raises(InvalidRequest, match="unknown style 'baroque'.*anime"):
        parser.parse("a dragon", "baroque", "poster")
