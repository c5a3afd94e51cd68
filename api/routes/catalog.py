"""/api/styles and /api/products."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ServicesDep

router = APIRouter(prefix="/api", tags=["catalog"])


@router.get("/styles")
def list_styles(services: ServicesDep) -> list[dict[str, Any]]:
    return [s.model_dump() for s in services.generation.catalog.styles.values()]


@router.get("/products")
def list_products(services: ServicesDep) -> list[dict[str, Any]]:
    return [
        {**p.model_dump(), "aspect_ratio": p.aspect_ratio, "print_size_px": p.print_size_px}
        for p in services.generation.catalog.products.values()
    ]
