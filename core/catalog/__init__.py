"""Styles and products, kept as data (`styles.json`, `products.json`) and read once."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from pydantic import BaseModel, Field

from core.errors import InvalidRequest
from core.jobs.limits import MAX_VECTOR_COLORS, MIN_VECTOR_COLORS


# The sizes Qwen-Image was trained at; a generation size is always one of them.
QWEN_IMAGE_SIZES: tuple[tuple[int, int], ...] = (
    (1328, 1328), (1664, 928), (928, 1664), (1472, 1104), (1104, 1472), (1584, 1056), (1056, 1584),
)


# Printful's floor for print files; a print file that states less is exported at this
MIN_PRINT_DPI = 150


def closest_generation_size(width: float, height: float) -> tuple[int, int]:
    """The Qwen-Image native size whose aspect is closest to width:height (compared in log space,
    so 2:1 and 1:2 are equally far from 1:1)."""
    target = math.log(width / height)
    return min(QWEN_IMAGE_SIZES, key=lambda size: abs(math.log(size[0] / size[1]) - target))


class Style(BaseModel):
    id: str
    name: str
    prompt_suffix: str
    negative_prompt: str
    palette: list[str]
    # the colours a vector export starts from: few for flat styles, more for painted ones
    vector_colors: int = Field(default=8, ge=MIN_VECTOR_COLORS, le=MAX_VECTOR_COLORS)


class Product(BaseModel):
    id: str
    name: str
    print_area_in: tuple[float, float]
    dpi: int
    generation_size: tuple[int, int]
    transparent_background: bool
    shape: str
    base_color: str
    print_fit: Literal["contain", "cover"] = "contain"
    source: str = ""
    printful_product_id: int | None = None
    printful_variant_id: int | None = None
    printful_placement: str | None = None

    @property
    def aspect_ratio(self) -> str:
        w, h = self.generation_size
        return f"{w}:{h}"

    @property
    def print_size_px(self) -> tuple[int, int]:
        w_in, h_in = self.print_area_in
        return round(w_in * self.dpi), round(h_in * self.dpi)

    def with_print_file(self, width_px: int, height_px: int, dpi: int, source: str) -> Product:
        """This product with another print file (e.g. Printful's), its generation size re-chosen;
        never below MIN_PRINT_DPI."""
        return self.model_copy(
            update={
                "print_area_in": (width_px / dpi, height_px / dpi),
                "dpi": max(dpi, MIN_PRINT_DPI),
                "generation_size": closest_generation_size(width_px, height_px),
                "source": source,
            }
        )


@dataclass(frozen=True)
class Catalog:
    styles: dict[str, Style]
    products: dict[str, Product]

    def style(self, style_id: str) -> Style:
        try:
            return self.styles[style_id]
        except KeyError:
            raise InvalidRequest(
                f"unknown style {style_id!r}; choose one of: {', '.join(self.styles)}"
            ) from None

    def product(self, product_id: str) -> Product:
        try:
            return self.products[product_id]
        except KeyError:
            raise InvalidRequest(
                f"unknown product {product_id!r}; choose one of: {', '.join(self.products)}"
            ) from None


def load_catalog() -> Catalog:
    package = resources.files("core.catalog")
    styles = json.loads(package.joinpath("styles.json").read_text(encoding="utf-8"))["styles"]
    products = json.loads(package.joinpath("products.json").read_text(encoding="utf-8"))["products"]
    return Catalog(
        styles={s["id"]: Style.model_validate(s) for s in styles},
        products={p["id"]: Product.model_validate(p) for p in products},
    )
