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

from core.catalog import load_catalog
from core.generators.draft_renderer import render_draft
from core.mockups import render_mockup
from core.parsing import LocalPromptParser


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="warm renders per product")
    parser.add_argument("--size", type=int, default=640, help="mockup side in pixels")
    args = parser.parse_args()
    catalog = load_catalog()
    prompts = LocalPromptParser(catalog)
    style = catalog.style("cyberpunk-neon")
    print(f"{'product':<12} {'design':>10} {'first ms':>9} {'warm median ms':>15} {'warm max ms':>12}")
    for product in catalog.products.values():
        brief = prompts.parse("a cyberpunk samurai with neon lights", style.id, product.id)
        design = render_draft(brief, style.palette, brief.width, brief.height, 7)
        started = time.perf_counter()
        render_mockup(design, product, args.size)
        first = (time.perf_counter() - started) * 1000
        warm = []
        for _ in range(args.runs):
            started = time.perf_counter()
            render_mockup(design, product, args.size)
            warm.append((time.perf_counter() - started) * 1000)
        size = f"{brief.width}x{brief.height}"
        print(f"{product.id:<12} {size:>10} {first:>9.0f} {statistics.median(warm):>15.0f} {max(warm):>12.0f}")


if __name__ == "__main__":
    main()
