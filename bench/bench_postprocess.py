"""Timings of the worker's print post-processing: matting cutout + super-resolution upscale.

    python -m bench.bench_postprocess --tiny                 # CPU smoke run: the tests' tiny models
    python -m bench.bench_postprocess --random-full-size     # GPU: Real-ESRGAN x4plus's architecture, random weights
    python -m bench.bench_postprocess --segmenter FOLDER --upscaler FILE   # real weights

`--random-full-size` builds RRDBNet at RealESRGAN_x4plus's size (64 features, 23 blocks,
16.7 M parameters) with random weights and loads it through spandrel, as the real file is;
the design is 1328² and the print 2250² (a tote bag). BiRefNet's code ships with its weights,
so without `--segmenter` the cutout runs the tiny matting model at BiRefNet's 1024² input:
that measures the cutout's pre- and post-processing, not BiRefNet itself. Target: at most
1 s per image on a GPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from modal_app.postprocess import PostprocessConfig, PostprocessEngine

REALESRGAN_X4PLUS = {"scale": 4, "num_feat": 64, "num_block": 23, "num_grow_ch": 32}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_postprocess", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny random models (CPU smoke run)")
    parser.add_argument("--random-full-size", action="store_true", help="Real-ESRGAN x4plus's size, random weights")
    parser.add_argument("--segmenter", default=None, help="a matting model folder (BiRefNet's layout)")
    parser.add_argument("--upscaler", default=None, help="a Real-ESRGAN .pth/.safetensors file")
    parser.add_argument("--design", type=int, nargs=2, default=None, metavar=("W", "H"),
                        help="design size (default 48 60 with --tiny, else 1328 1328)")
    parser.add_argument("--print-size", type=int, nargs=2, default=None, metavar=("W", "H"),
                        help="print size (default 180 225 with --tiny, else 2250 2250)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs after one warm-up run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    args.design = tuple(args.design or ((48, 60) if args.tiny else (1328, 1328)))
    args.print_size = tuple(args.print_size or ((180, 225) if args.tiny else (2250, 2250)))
    return args


def build_engine(args: argparse.Namespace, folder: Path) -> PostprocessEngine:
    from tests.worker.tiny_print_models import save_tiny_matting, save_tiny_upscaler

    segmenter = args.segmenter
    if segmenter is None:
        segmenter = str(save_tiny_matting(folder / "matting", "ink"))
    upscaler = args.upscaler
    if upscaler is None:
        sizes = REALESRGAN_X4PLUS if args.random_full_size else {"scale": 4}
        upscaler = str(save_tiny_upscaler(folder / "upscaler.pth", **sizes))
    config = PostprocessConfig(
        segmenter=segmenter, upscaler=upscaler,
        segmenter_label="BiRefNet" if args.segmenter else "stand-in matting",
        upscaler_label="Real-ESRGAN" if args.upscaler or args.random_full_size else "tiny ESRGAN",
        segment_side=64 if args.tiny else 1024,
    )
    return PostprocessEngine.from_config(config)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from tests.worker.tiny_print_models import design_png

    with tempfile.TemporaryDirectory() as folder:
        engine = build_engine(args, Path(folder))
    png = design_png(args.design)
    width, height = args.print_size
    engine.run(png, ["cutout", "upscale"], width, height)  # warm-up: kernels, allocator
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    made_by = ""
    for _ in range(args.runs):
        started = time.perf_counter()
        output = engine.run(png, ["cutout", "upscale"], width, height)
        totals.append(time.perf_counter() - started)
        made_by = output.made_by
        for stage, seconds in output.timings.items():
            stages.setdefault(stage, []).append(seconds)
    report: dict[str, Any] = {
        "device": str(engine.device),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "design": "x".join(map(str, args.design)),
        "print": f"{width}x{height}",
        "made_by": made_by,
        "upscaler_parameters_m": round(sum(p.numel() for p in engine.upscaler.model.parameters()) / 1e6, 2),
        "stages_mean_s": {stage: round(statistics.mean(values), 4) for stage, values in stages.items()},
        "per_image_s": {"mean": round(statistics.mean(totals), 4), "min": round(min(totals), 4)},
        "target_s": 1.0,
    }
    if torch.cuda.is_available():
        report["gpu_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
