"""Prompt parsing and print-file export speed (run by hand: python bench/bench_prompts_and_prints.py).

  parse   the local parser and the policy check per prompt; the Gemini parser against the
          loopback Gemini stub (SDK + HTTP overhead only — a real Gemini call adds the model's
          own latency, typically around a second for Flash with thinking off), cold and cached.
  export  render_print_file per product (cutout, fit, preflight with its fixes, PNG), from a
          design at the product's generation size: 'draft' is the offline draft renderer's
          artwork, 'textured' a subject full of fine detail on a plain background (closer to a
          real model image, and harder to compress). Background removal and the preflight are
          timed on their own; 'fails' counts the preflight checks that failed. The t-shirt's
          draft export is held to PRINT_FILE_BUDGET_MS.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.catalog import Catalog, Product, load_catalog  # noqa: E402
from core.generators.draft_art import render_draft  # noqa: E402
from core.parsing import LocalPromptParser  # noqa: E402
from core.parsing.cache import BriefCache  # noqa: E402
from core.parsing.gemini import GeminiPromptParser  # noqa: E402
from core.catalog.policy import load_policy  # noqa: E402
from core.imaging.colour import hex_rgb  # noqa: E402
from core.printing.preflight import preflight  # noqa: E402
from core.printing.printfiles import (  # noqa: E402
    place_on_print_area,
    remove_background,
    render_print_file,
    size_on_print_area,
)

PRINT_FILE_BUDGET_MS = 500  # preflight + print file on the local path, a t-shirt

PROMPTS = (
    "A cyberpunk samurai with neon lights",
    "a cute red and teal fox, full body",
    "majestic lighthouse at dusk, vintage badge",
    "a dreamy koi pond, pastel colors, top view",
    "retro robot mascot holding a coffee cup",
)


def timed_ms(action: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(ordered):8.3f} ms   p95 {p95:8.3f} ms   max {ordered[-1]:8.3f} ms   (n={len(ordered)})"


def bench_parsing(catalog: Catalog, gemini_runs: int) -> None:
    local = LocalPromptParser(catalog)
    policy = load_policy()
    cases = [(p, s, pr) for p in PROMPTS for s in catalog.styles for pr in catalog.products]
    local_ms = [timed_ms(lambda c=case: local.parse(*c), 1)[0] for case in cases]
    policy_ms = [timed_ms(lambda p=prompt: policy.findings(p), 1)[0] for prompt in PROMPTS * 40]
    print(f"local parser      {summary(local_ms)}")
    print(f"policy check      {summary(policy_ms)}   ({policy.term_count} terms)")
    if gemini_runs:
        bench_gemini(catalog, local, gemini_runs)


def bench_gemini(catalog: Catalog, local: LocalPromptParser, runs: int) -> None:
    from tests.support.gemini_stub import GeminiStub
    from tests.support.servers import LiveServer

    stub = GeminiStub()
    with LiveServer(stub.app()) as server:
        parser = GeminiPromptParser(
            catalog, api_key="bench", model="gemini-2.5-flash", base_url=server.url, fallback=local,
            retry_delay_s=0, cache=BriefCache(ttl_s=600),
        )
        parser.parse("warm-up", "anime", "mug")
        cold = [timed_ms(lambda i=i: parser.parse(f"a fox number {i}", "anime", "mug"), 1)[0] for i in range(runs)]
        cached = [timed_ms(lambda i=i: parser.parse(f"a fox number {i}", "anime", "mug"), 1)[0] for i in range(runs)]
    print(f"gemini (stub)     {summary(cold)}")
    print(f"gemini (cached)   {summary(cached)}")


def textured_png(size: tuple[int, int], seed: int = 1) -> bytes:
    """Fine-detailed colour noise in a disc on a plain background."""
    width, height = size
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    detail = Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.BICUBIC)
    noisy = np.clip(np.asarray(detail, dtype=np.int16) + rng.integers(-24, 25, (height, width, 3)), 0, 255)
    image = Image.new("RGB", size, (246, 244, 240))
    mask = Image.new("L", size, 0)
    r = int(min(width, height) * 0.42)
    ImageDraw.Draw(mask).ellipse((width // 2 - r, height // 2 - r, width // 2 + r, height // 2 + r), fill=255)
    image.paste(Image.fromarray(noisy.astype(np.uint8), "RGB"), (0, 0), mask)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def draft_png(catalog: Catalog, product: Product) -> bytes:
    brief = LocalPromptParser(catalog).parse(PROMPTS[0], "anime", product.id)
    return render_draft(brief, catalog.style("anime").palette, brief.width, brief.height, 1,
                        base_color=hex_rgb(product.base_color))


def bench_exports(catalog: Catalog, runs: int) -> None:
    print(f"\n{'product':<11} {'print px':>10} {'dpi':>4} {'input':<9} {'median ms':>10} {'max ms':>8} {'MB':>6} "
          f"{'bg-removal ms':>14} {'preflight ms':>13} {'fails':>6}")
    shirt_ms = 0.0
    for product in catalog.products.values():
        w, h = product.print_size_px
        for label, png in (("draft", draft_png(catalog, product)), ("textured", textured_png(product.generation_size))):
            samples = timed_ms(lambda png=png: render_print_file(png, product), runs)
            print_file = render_print_file(png, product)
            design = Image.open(io.BytesIO(png)).convert("RGB")
            removal = "-"
            source = design
            if product.transparent_background:
                removal = f"{statistics.median(timed_ms(lambda: remove_background(design), runs)):.0f}"
                source = remove_background(design) or design
            area = product.print_size_px
            scaled = source.resize(size_on_print_area(source.size, area, product.print_fit), Image.Resampling.LANCZOS)
            fitted = place_on_print_area(scaled, area, product.print_fit, (0, 0, 0, 0))
            checking = statistics.median(timed_ms(lambda fitted=fitted: preflight(fitted, product), runs))
            fails = sum(check.status == "fail" for check in print_file.preflight)
            median = statistics.median(samples)
            if product.id == "t-shirt" and label == "draft":
                shirt_ms = median
            print(
                f"{product.id:<11} {f'{w}x{h}':>10} {product.dpi:>4} {label:<9} "
                f"{median:>10.0f} {max(samples):>8.0f} {len(print_file.png) / 1e6:>6.2f} {removal:>14} "
                f"{checking:>13.0f} {fails:>6}"
            )
    verdict = "within" if shirt_ms <= PRINT_FILE_BUDGET_MS else "OVER"
    print(f"\nt-shirt print file with preflight (draft): {shirt_ms:.0f} ms, {verdict} the {PRINT_FILE_BUDGET_MS} ms budget")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="exports per product and input")
    parser.add_argument("--gemini-runs", type=int, default=30, help="Gemini stub calls (0 skips)")
    args = parser.parse_args()
    catalog = load_catalog()
    bench_parsing(catalog, args.gemini_runs)
    bench_exports(catalog, args.runs)


if __name__ == "__main__":
    main()
