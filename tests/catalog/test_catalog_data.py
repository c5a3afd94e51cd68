"""The bundled styles and products: the data other code relies on."""

from __future__ import annotations

import math
import re

import pytest

from core.catalog import QWEN_IMAGE_SIZES, Catalog, closest_generation_size

STABLE_STYLE_IDS = {
    "anime", "watercolor", "vintage-poster", "line-art", "pixel-art", "cyberpunk-neon",
    "ukiyo-e", "sticker", "photoreal", "3d-render", "graffiti", "retro-70s",
}
STABLE_PRODUCT_IDS = {"t-shirt", "hoodie", "mug", "poster", "canvas", "phone-case", "tote-bag", "sticker"}


def test_style_and_product_ids_stay_stable(catalog: Catalog):
    assert set(catalog.styles) == STABLE_STYLE_IDS
    assert set(catalog.products) == STABLE_PRODUCT_IDS


def test_every_style_has_a_suffix_a_negative_prompt_and_a_hex_palette(catalog: Catalog):
    for style in catalog.styles.values():
        assert style.prompt_suffix.strip() and style.negative_prompt.strip(), style.id
        assert len(style.palette) >= 3, style.id
        assert all(re.fullmatch(r"#[0-9a-f]{6}", color) for color in style.palette), style.id


def test_every_product_generates_at_the_qwen_image_size_closest_to_its_print_area(catalog: Catalog):
    for product in catalog.products.values():
        assert product.generation_size in QWEN_IMAGE_SIZES, product.id
        assert product.generation_size == closest_generation_size(*product.print_area_in), product.id


def test_every_product_prints_at_150_dpi_or_more_and_cites_its_source(catalog: Catalog):
    for product in catalog.products.values():
        assert product.dpi >= 150, product.id
        assert len(product.source) > 20, product.id


def test_the_t_shirt_uses_printfuls_bella_canvas_3001_front_print_file(catalog: Catalog):
    shirt = catalog.product("t-shirt")
    assert shirt.printful_product_id == 71 and shirt.printful_placement == "front"
    assert shirt.print_size_px == (1800, 2400) and shirt.dpi == 150


def test_products_with_a_printful_id_name_the_placement_to_read(catalog: Catalog):
    for product in catalog.products.values():
        if product.printful_product_id is not None:
            assert product.printful_placement, product.id


@pytest.mark.parametrize(
    ("inches", "expected"),
    [((12, 16), (1104, 1472)), ((9, 3.5), (1664, 928)), ((4, 4), (1328, 1328)), ((3.5, 7), (928, 1664)),
     ((15, 12), (1472, 1104)), ((16, 20), (1104, 1472)), ((24, 16), (1584, 1056))],
)
def test_the_closest_generation_size_compares_aspects(inches, expected):
    assert closest_generation_size(*inches) == expected
    # and nothing else in the list is closer
    target = math.log(inches[0] / inches[1])
    best = min(abs(math.log(w / h) - target) for w, h in QWEN_IMAGE_SIZES)
    assert abs(math.log(expected[0] / expected[1]) - target) == best


def test_a_new_print_file_resizes_the_print_area_and_rechooses_the_generation_size(catalog: Catalog):
    hoodie = catalog.product("hoodie").with_print_file(1800, 2400, 150, source="Printful printfile 1")
    assert hoodie.print_area_in == (12, 16) and hoodie.dpi == 150
    assert hoodie.generation_size == (1104, 1472)
    assert hoodie.source == "Printful printfile 1" and hoodie.shape == "hoodie"
