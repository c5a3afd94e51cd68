"""Mockup compositor speed per product (run by hand: python bench/bench_mockups.py).

Target: a preview-size (640 px) mockup in at most 100 ms, so the studio can show it next
to the design as soon as a job completes. "first" includes drawing the product, which
happens once per product and size; "warm" is every later preview (design decode, fit,
shading and PNG encode).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

from core.catalog import load_catalog
from core.generators.draft_art import render_draft
from core.mockups import render_mockup
from core.parsing import LocalPromptParser


@dataclass(frozen=True)
class MockupTiming:
    product: str
    design_size: str
    first_ms: float
    warm_median_ms: float
    warm_max_ms: float


def run(runs: int = 10, size: int = 640) -> list[MockupTiming]:
    catalog = load_catalog()
    prompts = LocalPromptParser(catalog)
    style = catalog.style("cyberpunk-neon")
    timings = []
    for product in catalog.products.values():
        brief = prompts.parse("a cyberpunk samurai with neon lights", style.id, product.id)
        design = render_draft(brief, style.palette, brief.width, brief.height, 7)
        started = time.perf_counter()
        render_mockup(design, product, size)
        first = (time.perf_counter() - started) * 1000
        warm = []
        for _ in range(runs):
            started = time.perf_counter()
            render_mockup(design, product, size)
            warm.append((time.perf_counter() - started) * 1000)
        timings.append(MockupTiming(product.id, f"{brief.width}x{brief.height}", first, statistics.median(warm), max(warm)))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="warm renders per product")
    parser.add_argument("--size", type=int, default=640, help="mockup side in pixels")
    args = parser.parse_args()
    print(f"{'product':<12} {'design':>10} {'first ms':>9} {'warm median ms':>15} {'warm max ms':>12}")
    for t in run(args.runs, args.size):
        print(f"{t.product:<12} {t.design_size:>10} {t.first_ms:>9.0f} {t.warm_median_ms:>15.0f} {t.warm_max_ms:>12.0f}")


if __name__ == "__main__":
    main()
