"""Vector (SVG) export speed (run by hand: python bench/bench_vectors.py).

Target: a 1328² design traced in 8 colours in at most 2 s. The design is the draft renderer's
sticker, so the time includes its cutout, the colour quantization and the tracing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

from core.catalog import load_catalog
from core.generators.draft_art import render_draft
from core.parsing import LocalPromptParser
from core.printing.vectors import render_vector_file


@dataclass(frozen=True)
class VectorTiming:
    colors: int
    seconds: float  # the median of the runs
    paths: int
    svg_kb: float


def run(runs: int = 3, side: int = 1328, colors: tuple[int, ...] = (2, 4, 8, 16)) -> list[VectorTiming]:
    catalog = load_catalog()
    product = catalog.product("sticker")
    brief = LocalPromptParser(catalog).parse("a cute corgi astronaut floating in space", "sticker", product.id)
    design = render_draft(brief, catalog.style("sticker").palette, side, side, 7)
    timings = []
    for count in colors:
        seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            vector = render_vector_file(design, product, count)
            seconds.append(time.perf_counter() - started)
        timings.append(VectorTiming(count, statistics.median(seconds), vector.paths, len(vector.svg) / 1024))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--side", type=int, default=1328, help="the design's side in pixels")
    args = parser.parse_args()
    print(f"{'colours':>7} {'median s':>9} {'paths':>6} {'svg KB':>7}")
    for t in run(args.runs, args.side):
        print(f"{t.colors:>7} {t.seconds:>9.2f} {t.paths:>6} {t.svg_kb:>7.0f}")


if __name__ == "__main__":
    main()
