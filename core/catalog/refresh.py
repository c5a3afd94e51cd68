"""Refresh the products' print areas from Printful (GET /mockup-generator/printfiles/{id}).

Run once at start when PRINTFUL_API_TOKEN is set. A product keeps its bundled numbers when it
has no Printful id, when Printful cannot be asked in time, or when no print file fits; the
bundled data is always a working catalog, the refresh only makes it current.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Protocol

from core.catalog import Catalog, Product
from core.catalog.printful import PrintfileInfo, PrintfulError

log = logging.getLogger(__name__)


class PrintfileSource(Protocol):
    def printfiles(self, product_id: int, *, within_s: float | None = None) -> PrintfileInfo: ...


def _oriented(width: int, height: int, can_rotate: bool, portrait: bool) -> tuple[int, int]:
    """Wall-art print files are defined one way round and may be rotated: match the product's."""
    if can_rotate and (height > width) != portrait and width != height:
        return height, width
    return width, height


def choose_print_file(info: PrintfileInfo, product: Product) -> tuple[int, int, int, int] | None:
    """(width_px, height_px, dpi, printfile_id) for the product's placement: its variant's print
    file when the variant is known, else the one closest in aspect, then in size, to the
    bundled print area."""
    placement = product.printful_placement or "default"
    want_w, want_h = product.print_area_in
    portrait = want_h > want_w
    if product.printful_variant_id is not None:
        chosen = info.for_variant(product.printful_variant_id, placement)
        candidates = [chosen] if chosen else []
    else:
        candidates = info.for_placement(placement)
    if not candidates:
        return None

    def distance(printfile_w: int, printfile_h: int, dpi: int) -> tuple[float, float]:
        aspect = abs(math.log((printfile_w / printfile_h) / (want_w / want_h)))
        return round(aspect, 3), abs(printfile_w * printfile_h / dpi**2 - want_w * want_h)

    oriented = [(*_oriented(p.width, p.height, p.can_rotate, portrait), p.dpi, p.printfile_id) for p in candidates]
    return min(oriented, key=lambda c: distance(c[0], c[1], c[2]))


def refresh_print_files(catalog: Catalog, source: PrintfileSource, within_s: float = 30.0) -> Catalog:
    """The catalog with Printful's current print file for every product that names one."""
    deadline = time.monotonic() + within_s
    products = dict(catalog.products)
    for product in catalog.products.values():
        if product.printful_product_id is None:
            continue
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise PrintfulError("the refresh ran out of time")
            info = source.printfiles(product.printful_product_id, within_s=remaining)
        except PrintfulError as exc:
            log.warning("printful refresh skipped product=%s error=%s", product.id, exc)
            continue
        chosen = choose_print_file(info, product)
        if chosen is None:
            log.warning("printful has no %s print file for product=%s", product.printful_placement, product.id)
            continue
        width, height, dpi, printfile_id = chosen
        source_note = (
            f"Printful GET /mockup-generator/printfiles/{product.printful_product_id}, "
            f"print file {printfile_id} ({width}x{height} px at {dpi} DPI), read at start"
        )
        products[product.id] = product.with_print_file(width, height, dpi, source=source_note)
        log.info("printful print file product=%s size=%dx%d dpi=%d", product.id, width, height, dpi)
    return Catalog(styles=catalog.styles, products=products)
