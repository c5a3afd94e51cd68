"""The bundled styles and products: the data other code relies on."""

from __future__ import annotations

import math
import re

import pytest

from core.catalog import ASPECT_TOLERANCE, GENERATION_PIXEL_BUDGET, Catalog, closest_generation_size
from core.worker_contract.messages import MAX_SIDE, MIN_SIDE, SIZE_MULTIPLE

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


def test_every_product_generates_at_its_print_areas_aspect_within_the_models_rules(catalog: Catalog):
    for product in catalog.products.values():
        w, h = product.generation_size
        assert w % SIZE_MULTIPLE == 0 and h % SIZE_MULTIPLE == 0, product.id
        assert MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE, product.id
        assert w * h <= GENERATION_PIXEL_BUDGET, product.id
        a_w, a_h = product.print_area_in
        assert abs(math.log((w / h) / (a_w / a_h))) <= ASPECT_TOLERANCE, product.id
        assert product.generation_note is None, product.id
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
    [((4, 4), (1328, 1328)), ((3.5, 7), (928, 1856)), ((15, 12), (1456, 1168)), ((16, 20), (1168, 1456))],
)
def test_the_generation_size_is_the_largest_within_budget_at_the_print_areas_aspect(inches, expected):
    assert closest_generation_size(*inches) == expected


def test_the_mug_wrap_gets_the_widest_size_the_worker_makes():
    # 9x3.5 in is 2.57:1; 2128x832 would match it but is past MAX_SIDE (2048)
    assert closest_generation_size(9, 3.5) == (2048, 800)


def test_an_aspect_the_model_cannot_make_is_named_and_gets_the_closest_size(catalog: Catalog):
    banner = catalog.product("mug").model_copy(update={"print_area_in": (20.0, 2.0)})  # 10:1
    assert banner.generation_size == (MAX_SIDE, MIN_SIDE)  # 8:1, as close as the sides allow
    assert banner.generation_note and "outside what the model makes" in banner.generation_note
    assert "padded" in banner.generation_note


def test_every_product_states_its_minimum_dpi_and_prints_at_least_at_it(catalog: Catalog):
    for product in catalog.products.values():
        assert product.dpi >= product.min_dpi >= 150, product.id
    assert {p.id for p in catalog.products.values() if p.min_dpi == 300} == {"mug", "phone-case", "sticker"}
    assert {p.id for p in catalog.products.values() if p.dtg} == {"t-shirt", "hoodie", "tote-bag"}


def test_a_new_print_file_resizes_the_print_area_and_rechooses_the_generation_size(catalog: Catalog):
    hoodie = catalog.product("hoodie").with_print_file(1800, 2400, 150, source="Printful printfile 1")
    assert hoodie.print_area_in == (12, 16) and hoodie.dpi == 150
    assert hoodie.generation_size == (1136, 1520)
    assert hoodie.source == "Printful printfile 1" and hoodie.shape == "hoodie"
