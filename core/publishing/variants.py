"""A catalog product's variants (colours × sizes) from Printful's GET /products/{id}, cached in
this process for a while: they change seldom, and the cache only saves calls, so each process
keeping its own is fine. A suggested retail price comes with them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Protocol

from core.catalog.printful import CatalogVariant, PrintfulError

# the suggested retail price: Printful's price for the blank times this, ending in .99 — a
# starting point the designer edits, not a pricing policy
SUGGESTED_MARKUP = Decimal("2")


class VariantSource(Protocol):
    def catalog_variants(self, product_id: int, *, within_s: float | None = None) -> list[CatalogVariant]: ...


@dataclass(frozen=True)
class ProductVariants:
    printful_product_id: int
    variants: list[CatalogVariant]
    default_variant_id: int | None  # the product's own (products.json), when Printful still offers it

    @property
    def colors(self) -> list[str]:
        return list(dict.fromkeys(v.color for v in self.variants if v.color))

    @property
    def sizes(self) -> list[str]:
        return list(dict.fromkeys(v.size for v in self.variants if v.size))

    def by_id(self) -> dict[int, CatalogVariant]:
        return {v.variant_id: v for v in self.variants}

    def matching(self, colors: Sequence[str], sizes: Sequence[str]) -> list[int]:
        """The variant ids of every picked colour in every picked size that Printful offers."""
        return [v.variant_id for v in self.variants if v.color in colors and v.size in sizes]

    def suggested_retail_price(self, variant_ids: Sequence[int] = ()) -> str:
        chosen = [v for v in self.variants if v.variant_id in set(variant_ids)] or self.variants
        if not chosen:
            return "0.00"
        highest = max(Decimal(v.price) for v in chosen)
        return str((highest * SUGGESTED_MARKUP).to_integral_value(ROUND_CEILING) - Decimal("0.01"))


class VariantCatalog:
    """Printful's variants per catalog product, kept `ttl_s` seconds."""

    def __init__(self, source: VariantSource, ttl_s: float = 3600.0, timeout_s: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: dict[int, tuple[float, list[CatalogVariant]]] = {}

    def variants(self, printful_product_id: int) -> list[CatalogVariant]:
        """PrintfulError when Printful cannot answer and nothing fresh is cached."""
        now = self._clock()
        with self._lock:
            hit = self._cached.get(printful_product_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        variants = self._source.catalog_variants(printful_product_id, within_s=self._timeout_s)
        if not variants:
            raise PrintfulError(f"Printful lists no variants for product {printful_product_id}")
        with self._lock:
            self._cached[printful_product_id] = (now + self._ttl_s, variants)
        return variants
