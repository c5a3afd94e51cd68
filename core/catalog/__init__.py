"""Styles and products, kept as data (`styles.json`, `products.json`) and read once."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from core.errors import InvalidRequest
from core.jobs.limits import MAX_VECTOR_COLORS, MIN_VECTOR_COLORS
from core.worker_contract.messages import MAX_SIDE, MIN_SIDE, SIZE_MULTIPLE


# The sizes Qwen-Image was trained at: the model's own aspect grid, kept for reference. A
# product's generation size is no longer one of them but follows its print area's aspect.
QWEN_IMAGE_SIZES: tuple[tuple[int, int], ...] = (
    (1328, 1328), (1664, 928), (928, 1664), (1472, 1104), (1104, 1472), (1584, 1056), (1056, 1584),
)
# The model's pixel budget: its square training size's area (about 1.76 MP). Larger images
# cost time and memory superlinearly and drift from what the model was trained on.
GENERATION_PIXEL_BUDGET = 1328 * 1328
# A generation size whose aspect is this close (relative) to the print area's is a match: the
# print file is then a pure resize of the design, nothing padded or cropped.
ASPECT_TOLERANCE = 0.005

# Printful's floor for print files; a print file that states less is exported at this
MIN_PRINT_DPI = 150


@lru_cache(maxsize=256)
def closest_generation_size(width: float, height: float) -> tuple[int, int]:
    """The largest size the model can make (sides multiples of SIZE_MULTIPLE within
    MIN_SIDE..MAX_SIDE, at most GENERATION_PIXEL_BUDGET pixels) whose aspect is within
    ASPECT_TOLERANCE of width:height; when none is, the size with the closest aspect (compared
    in log space, so 2:1 and 1:2 are equally far from 1:1), the larger on a tie."""
    target = math.log(width / height)
    candidates = []
    for h in range(MIN_SIDE, MAX_SIDE + 1, SIZE_MULTIPLE):
        for w in _widths_near(h * width / height):
            if w * h <= GENERATION_PIXEL_BUDGET:
                candidates.append((w, h))
    matching = [size for size in candidates if _aspect_error(size, target) <= ASPECT_TOLERANCE]
    if matching:
        return max(matching, key=lambda size: (size[0] * size[1], -_aspect_error(size, target)))
    return min(candidates, key=lambda size: (_aspect_error(size, target), -size[0] * size[1]))


def _widths_near(ideal: float) -> list[int]:
    """The allowed widths on either side of `ideal` (clamped to the model's range)."""
    below = math.floor(ideal / SIZE_MULTIPLE) * SIZE_MULTIPLE
    return sorted({min(MAX_SIDE, max(MIN_SIDE, w)) for w in (below, below + SIZE_MULTIPLE)})


def _aspect_error(size: tuple[int, int], target_log: float) -> float:
    return abs(math.log(size[0] / size[1]) - target_log)


def aspect_matches(size: tuple[float, float], other: tuple[float, float]) -> bool:
    """Whether two sizes have the same aspect, within ASPECT_TOLERANCE."""
    return _aspect_error((size[0], size[1]), math.log(other[0] / other[1])) <= ASPECT_TOLERANCE  # type: ignore[arg-type]


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
    transparent_background: bool
    shape: str
    base_color: str
    print_fit: Literal["contain", "cover"] = "contain"
    # the least DPI the shop accepts for this product (150, or 300 for small items and paper)
    min_dpi: int = MIN_PRINT_DPI
    # printed direct-to-garment over a white underbase: semi-transparent pixels print speckled
    dtg: bool = False
    # keep the design this far inside the print area's edge (a cut line, a seam), in inches
    safe_margin_in: float = 0.0
    source: str = ""
    printful_product_id: int | None = None
    printful_variant_id: int | None = None
    printful_placement: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def generation_size(self) -> tuple[int, int]:
        """The size the model makes this product's designs at: its print area's aspect."""
        return closest_generation_size(*self.print_area_in)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def generation_note(self) -> str | None:
        """What the designer should know when the model cannot match the print area's aspect."""
        if aspect_matches(self.generation_size, self.print_area_in):
            return None
        w, h = self.generation_size
        a_w, a_h = self.print_area_in
        edit = "cropped evenly" if self.print_fit == "cover" else "padded"
        return (f"the {a_w:g}x{a_h:g} in print area's aspect ({a_w / a_h:.2f}:1) is outside what the model makes; "
                f"designs are made at {w}x{h} ({w / h:.2f}:1) and {edit} to fit")

    @property
    def aspect_ratio(self) -> str:
        w, h = self.generation_size
        return f"{w}:{h}"

    @property
    def print_size_px(self) -> tuple[int, int]:
        w_in, h_in = self.print_area_in
        return round(w_in * self.dpi), round(h_in * self.dpi)

    def with_print_file(self, width_px: int, height_px: int, dpi: int, source: str) -> Product:
        """This product with another print file (e.g. Printful's), its generation size following
        the new aspect; never below the product's `min_dpi`."""
        return self.model_copy(
            update={
                "print_area_in": (width_px / dpi, height_px / dpi),
                "dpi": max(dpi, self.min_dpi),
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
