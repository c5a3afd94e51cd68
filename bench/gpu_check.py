"""The worker's GPU check, one command on one H100/H200 in under 8 minutes, nothing downloaded:

    python -m bench.gpu_check                       # 1328x1328: 8 steps (no CFG) and 50 steps (CFG 4)
    python -m bench.gpu_check --json > gpu_check.json
    python -m bench.gpu_check --tiny --variants eager,fa3 --steps 2   # CPU smoke run of the script itself

It builds Qwen-Image at full size with random bf16 weights (`bench_inference --random-full-size`),
then for each attention/compile variant — eager (PyTorch SDPA), fa3 (FlashAttention-3 as the
worker's `auto` picks it), compiled (the transformer's repeated blocks under torch.compile, on
the best attention) — it times the Lightning path (8 steps, no CFG) and the full path (50
steps, true CFG 4: 100 transformer passes) per stage, with the peak GPU memory, and the
transformer's share of the GPU's dense bf16 peak (FLOPs of one pass counted by PyTorch's
FlopCounterMode with eager attention). A variant that cannot load (no FA3 kernel) or would
pass `--budget-s` is reported as skipped, not fatal, so the run always prints its table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file, too

from bench.bench_inference import NEGATIVE, PROMPT, random_full_size_engine, tiny_engine  # noqa: E402
from core.worker_contract.engine import InferenceRequest  # noqa: E402
from modal_app.inference import QwenImageEngine, select_attention  # noqa: E402

VARIANTS = ("eager", "fa3", "compiled")
# dense bf16 tensor-core peak (no sparsity), from the vendors' datasheets (SXM parts)
BF16_PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "B200": 2250.0, "L4": 121.0}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny model on CPU (checks the script)")
    parser.add_argument("--size", type=int, default=None, help="square side (default 1328; 64 with --tiny)")
    parser.add_argument("--steps", default="8,50", help="step counts to time, comma-separated (default 8,50)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"of {', '.join(VARIANTS)}")
    parser.add_argument("--budget-s", type=float, default=420.0, help="skip what would start after this (default 420)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    args.size = args.size or (64 if args.tiny else 1328)
    args.steps = [int(s) for s in args.steps.split(",") if s]
    args.variants = [v for v in args.variants.split(",") if v]
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    return args


def request_for(size: int, steps: int) -> InferenceRequest:
    # the Lightning path is few steps without CFG; the full model's is 50 with true CFG 4
    cfg = 1.0 if steps <= 8 else 4.0
    return InferenceRequest(prompt=PROMPT, negative_prompt=NEGATIVE, width=size, height=size, seed=7, steps=steps,
                            true_cfg_scale=cfg)


def transformer_passes(request: InferenceRequest) -> int:
    return (request.steps or 1) * (2 if (request.true_cfg_scale or 1.0) > 1.0 else 1)


def flops_per_pass(engine: QwenImageEngine, size: int) -> float:
    """FLOPs of one transformer forward at `size`, counted by PyTorch (eager attention)."""
    from torch.utils.flop_counter import FlopCounterMode

    pipe = engine.pipeline
    embeds, mask = engine._encode(PROMPT)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        pipe(prompt_embeds=embeds, prompt_embeds_mask=mask, true_cfg_scale=1.0, width=size, height=size,
             num_inference_steps=1, output_type="latent", generator=torch.Generator("cpu").manual_seed(0))
    return float(counter.get_total_flops())


def bf16_peak(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, tflops in BF16_PEAK_TFLOPS.items():
        if key in name:
            return tflops * 1e12
    return None


def set_variant(engine: QwenImageEngine, variant: str, device: torch.device) -> str:
    """Put the engine in `variant`'s state; returns the attention backend it runs."""
    pipe = engine.pipeline
    if variant == "eager":
        pipe.transformer.set_attention_backend("native")
        backend = "native"
    else:
        backend = select_attention(pipe, "auto", device)
        if variant == "fa3" and not backend.startswith("_flash"):
            raise RuntimeError("no FlashAttention-3 kernel loads here (needs Hopper and `kernels` or flash_attn_interface)")
        if variant == "compiled":
            pipe.transformer.compile_repeated_blocks(fullgraph=True)
    engine.attention_backend = backend
    return backend


def time_variant(engine: QwenImageEngine, variant: str, args: argparse.Namespace, device: torch.device,
                 flops: float | None, peak: float | None, deadline: float) -> dict[str, Any]:
    started = time.perf_counter()
    backend = set_variant(engine, variant, device)
    # warm-up at the measured size: kernels, autotuning and (compiled) the graphs
    engine.generate(request_for(args.size, 2 if variant != "compiled" else min(args.steps)))
    warmup_s = time.perf_counter() - started
    runs: dict[str, Any] = {}
    for steps in args.steps:
        request = request_for(args.size, steps)
        if time.monotonic() > deadline:
            runs[str(steps)] = {"skipped": "time budget"}
            continue
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        result = engine.generate(request)
        stages = {k: round(v, 4) for k, v in result.timings.as_dict().items() if k != "load_s"}
        passes = transformer_passes(request)
        run: dict[str, Any] = {"true_cfg_scale": request.true_cfg_scale, "transformer_passes": passes,
                               "stages_s": stages, "per_pass_s": round(result.timings.denoising_s / passes, 4)}
        if device.type == "cuda":
            run["peak_allocated_gb"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
            run["peak_reserved_gb"] = round(torch.cuda.max_memory_reserved(device) / 2**30, 2)
        if flops and peak:
            run["transformer_pct_of_bf16_peak"] = round(100 * flops * passes / result.timings.denoising_s / peak, 1)
        runs[str(steps)] = run
    return {"attention": backend, "warmup_s": round(warmup_s, 2), "runs": runs}


def run(args: argparse.Namespace) -> dict[str, Any]:
    deadline = time.monotonic() + args.budget_s
    with tempfile.TemporaryDirectory(prefix="tenkaigen-gpu-check-") as workdir:
        started = time.perf_counter()
        engine = tiny_engine(Path(workdir)) if args.tiny else random_full_size_engine(None)
        engine.load()
        build_s = time.perf_counter() - started
        device = torch.device(engine.describe()["device"])
        peak = bf16_peak(device)
        engine.pipeline.transformer.set_attention_backend("native")
        flops = flops_per_pass(engine, args.size)
        report: dict[str, Any] = {
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "torch": torch.__version__, "size": f"{args.size}x{args.size}", "build_s": round(build_s, 2),
            "weights_gb": round(torch.cuda.memory_allocated(device) / 2**30, 2) if device.type == "cuda" else None,
            "transformer_tflop_per_pass": round(flops / 1e12, 2), "bf16_peak_tflops": peak and peak / 1e12,
            "variants": {},
        }
        for variant in args.variants:
            if time.monotonic() > deadline:
                report["variants"][variant] = {"skipped": "time budget"}
                continue
            try:
                report["variants"][variant] = time_variant(engine, variant, args, device, flops, peak, deadline)
            except Exception as exc:  # one variant that cannot run must not lose the others' numbers
                report["variants"][variant] = {"skipped": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
        report["total_s"] = round(time.perf_counter() - started, 1)
        return report


def print_table(report: dict[str, Any]) -> None:
    print(f"device={report['device']} torch={report['torch']} size={report['size']} build={report['build_s']} s "
          f"weights={report['weights_gb']} GB transformer={report['transformer_tflop_per_pass']} TFLOP/pass "
          f"peak={report['bf16_peak_tflops']} TFLOP/s total={report['total_s']} s")
    print(f"{'variant':<10}{'steps':>6}{'cfg':>5}{'text':>8}{'denoise':>9}{'/pass':>8}{'vae':>8}{'total':>8}"
          f"{'peak GB':>9}{'% bf16':>8}")
    for variant, outcome in report["variants"].items():
        if "skipped" in outcome:
            print(f"{variant:<10} skipped: {outcome['skipped']}")
            continue
        for steps, r in outcome["runs"].items():
            if "skipped" in r:
                print(f"{variant:<10}{steps:>6} skipped: {r['skipped']}")
                continue
            s = r["stages_s"]
            print(f"{variant:<10}{steps:>6}{r['true_cfg_scale']:>5}{s['text_encoding_s']:>8.2f}{s['denoising_s']:>9.2f}"
                  f"{r['per_pass_s']:>8.3f}{s['vae_decode_s']:>8.2f}{s['total_s']:>8.2f}"
                  f"{r.get('peak_allocated_gb', '-'):>9}{r.get('transformer_pct_of_bf16_peak', '-'):>8}")
        print(f"{'':<10} attention={outcome['attention']} warm-up={outcome['warmup_s']} s")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
