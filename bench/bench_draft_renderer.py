"""Draft renderer speed per style and product size (run by hand: python bench/bench_draft_renderer.py).

Target: a full-size draft in well under 0.5 s on a 2-core machine, so `make run` shows a
design within 2 seconds of pressing Generate.
"""

from __future__ import annotations

import argparse
import statistics
import time

from core.catalog import load_catalog
from core.generators.draft_art import render_draft
from core.parsing import LocalPromptParser


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3, help="renders per style and product")
    args = parser.parse_args()
    catalog = load_catalog()
    prompts = LocalPromptParser(catalog)
    print(f"{'product':<12} {'size':>10} {'median ms':>10} {'max ms':>8}")
    for product in catalog.products.values():
        timings = []
        for style in catalog.styles.values():
            brief = prompts.parse("a cyberpunk samurai with neon lights", style.id, product.id)
            for seed in range(args.seeds):
                started = time.perf_counter()
                render_draft(brief, style.palette, brief.width, brief.height, seed)
                timings.append((time.perf_counter() - started) * 1000)
        size = f"{product.generation_size[0]}x{product.generation_size[1]}"
        print(f"{product.id:<12} {size:>10} {statistics.median(timings):>10.0f} {max(timings):>8.0f}")


if __name__ == "__main__":
    main()
