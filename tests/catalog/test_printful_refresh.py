"""With a Printful token, print areas come from Printful's printfiles endpoint (stub server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.catalog import Catalog
from core.catalog.refresh import refresh_print_files
from core.catalog.printful import PrintfulClient
from tests.support.apps import make_settings
from tests.support.printful_stub import TSHIRT_PRINTFILES, PrintfulStub, lockout
from tests.support.servers import LiveServer


def printfiles(product_id: int, files: list[dict[str, Any]], variants: dict[int, dict[str, int]]) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "available_placements": {"default": "Print file"},
        "printfiles": files,
        "variant_printfiles": [{"variant_id": v, "placements": p} for v, p in variants.items()],
    }


def printfile(printfile_id: int, width: int, height: int, dpi: int, can_rotate: bool = False) -> dict[str, Any]:
    return {"printfile_id": printfile_id, "width": width, "height": height, "dpi": dpi, "fill_mode": "cover", "can_rotate": can_rotate}


PRINTFUL_CATALOG = {
    71: TSHIRT_PRINTFILES,
    # the hoodie's front, as one integration records it: the t-shirt's 12x16 in file
    146: {**printfiles(146, [printfile(1, 1800, 2400, 150)], {5523: {"front": 1}}),
          "available_placements": {"front": "Front print"}},
    # wall art is defined landscape and may be rotated; variant 1 is 18x24 in
    1: printfiles(1, [printfile(2, 3600, 2700, 150, True), printfile(7, 5400, 3600, 150, True)], {1: {"default": 2}, 2: {"default": 7}}),
    # stickers: several square sizes, no variant named in our data -> the one closest to 4x4 in
    358: printfiles(358, [printfile(10, 900, 900, 300), printfile(11, 1200, 1200, 300), printfile(12, 1650, 1650, 300)],
                    {10163: {"default": 10}, 10164: {"default": 11}, 10165: {"default": 12}}),
    # a print file stating less than 150 DPI is exported at 150
    3: printfiles(3, [printfile(20, 1200, 1500, 75)], {6: {"default": 20}}),
}


@pytest.fixture(scope="module")
def printful() -> Iterator[tuple[PrintfulStub, str]]:
    stub = PrintfulStub(printfiles=PRINTFUL_CATALOG)  # no mug (19): Printful answers 404
    with LiveServer(stub.app()) as server:
        yield stub, server.url
        stub.release()


@pytest.fixture
def refreshed(printful, catalog: Catalog) -> Catalog:
    _, url = printful
    with PrintfulClient("token", url, timeout_s=5) as client:
        return refresh_print_files(catalog, client)


def test_the_t_shirt_takes_its_variants_front_print_file(refreshed):
    shirt = refreshed.product("t-shirt")
    assert shirt.print_size_px == (1800, 2400) and shirt.dpi == 150
    assert "printfiles/71" in shirt.source and "print file 1" in shirt.source


def test_a_different_print_area_rechooses_the_generation_size(refreshed, catalog):
    assert catalog.product("hoodie").generation_size == (1456, 1168)
    hoodie = refreshed.product("hoodie")
    assert hoodie.print_size_px == (1800, 2400) and hoodie.generation_size == (1136, 1520)


def test_a_rotatable_wall_art_file_is_turned_to_the_products_orientation(refreshed):
    poster = refreshed.product("poster")
    assert poster.print_size_px == (2700, 3600) and poster.print_area_in == (18, 24)


def test_without_a_variant_the_print_file_closest_to_the_bundled_area_is_taken(refreshed):
    assert refreshed.product("sticker").print_size_px == (1200, 1200)


def test_a_print_file_below_150_dpi_is_raised_to_150(refreshed):
    canvas = refreshed.product("canvas")
    assert canvas.dpi == 150 and canvas.print_area_in == (16, 20) and canvas.print_size_px == (2400, 3000)


def test_products_printful_cannot_answer_for_keep_their_bundled_data(refreshed, catalog):
    for product_id in ("mug", "phone-case", "tote-bag"):
        assert refreshed.product(product_id) == catalog.product(product_id)
    assert refreshed.styles == catalog.styles


def test_a_rate_limited_refresh_keeps_the_bundled_data_instead_of_waiting(printful, catalog):
    stub, url = printful
    stub.requests.clear()
    stub.script.append(lockout(retry_after="60"))
    with PrintfulClient("token", url, timeout_s=5) as client:
        refreshed = refresh_print_files(catalog, client, within_s=5)
    # the lockout outlasts the refresh's 5 s: no product is asked again, all keep their data
    assert refreshed.products == catalog.products
    assert len(stub.requests) == 1


def test_the_app_reads_print_files_from_printful_when_a_token_is_set(printful, tmp_path):
    _, url = printful
    settings = make_settings(tmp_path, PRINTFUL_API_TOKEN="token", PRINTFUL_BASE_URL=url)
    with TestClient(create_app(settings)) as client:
        products = {p["id"]: p for p in client.get("/api/products").json()}
    assert products["hoodie"]["print_size_px"] == [1800, 2400]
    assert products["mug"]["print_size_px"] == [2700, 1050]
