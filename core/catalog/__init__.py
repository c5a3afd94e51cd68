"""Styles and products, kept as data (`styles.json`, `products.json`) and read once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from pydantic import BaseModel

from core.errors import InvalidRequest


class Style(BaseModel):
    id: str
    name: str
    prompt_suffix: str
    negative_prompt: str
    palette: list[str]


class Product(BaseModel):
    id: str
    name: str
    print_area_in: tuple[float, float]
    dpi: int
    generation_size: tuple[int, int]
    transparent_background: bool
    shape: str
    base_color: str

    @property
    def aspect_ratio(self) -> str:
        w, h = self.generation_size
        return f"{w}:{h}"

    @property
    def print_size_px(self) -> tuple[int, int]:
        w_in, h_in = self.print_area_in
        return round(w_in * self.dpi), round(h_in * self.dpi)


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
