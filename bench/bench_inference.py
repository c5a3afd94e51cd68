"""Per-stage timings and peak memory of the worker's inference code.

    python -m bench.bench_inference --tiny                                  # CPU smoke run, seconds
    python -m bench.bench_inference --random-full-size --width 1328 --height 1328 --steps 50
    python -m bench.bench_inference --model /hf-cache/... --lightning 8     # real weights

`--random-full-size` builds the Qwen-Image architecture at full size from its public configs
(20B transformer, Qwen2.5-VL-7B text encoder, the 16-channel VAE) with random bf16 weights on
the GPU: nothing is downloaded, and the timings and memory are those of the real model
(the text is tokenized byte by byte, so text encoding sees ~3x the real token count).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from core.worker_contract.engine import InferenceRequest, InferenceResult
from modal_app.engine_config import EngineConfig
from modal_app.inference import QwenImageEngine
from modal_app.lightning_lora import LIGHTNING_SCHEDULER_CONFIG

PROMPT = "A cyberpunk samurai with neon lights, anime style, bold outlines, centered composition, t-shirt print"
NEGATIVE = "blurry, low quality, watermark, text artifacts"

# From the model repositories' config.json files (Qwen/Qwen-Image transformer/ and vae/,
# Qwen/Qwen2.5-VL-7B-Instruct).
QWEN_IMAGE_TRANSFORMER = {
    "patch_size": 2, "in_channels": 64, "out_channels": 16, "num_layers": 60, "attention_head_dim": 128,
    "num_attention_heads": 24, "joint_attention_dim": 3584, "guidance_embeds": False, "axes_dims_rope": (16, 56, 56),
}
QWEN_IMAGE_VAE = {
    "base_dim": 96, "z_dim": 16, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2,
    "temperal_downsample": [False, True, True], "latents_mean": [0.0] * 16, "latents_std": [1.0] * 16,
}
QWEN_25_VL_7B = {
    "text_config": {
        "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
        "num_key_value_heads": 4, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "vocab_size": 152064,
        "rope_scaling": {"mrope_section": [16, 24, 24], "rope_type": "default", "type": "default"},
    },
    "vision_config": {
        "depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16, "out_hidden_size": 3584,
        "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 112,
        "fullatt_block_indexes": [7, 15, 23, 31],
    },
    "hidden_size": 3584, "vocab_size": 152064,
    "vision_start_token_id": 151652, "vision_end_token_id": 151653, "vision_token_id": 151654,
    "image_token_id": 151655, "video_token_id": 151656,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_inference", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tiny", action="store_true", help="the tests' tiny random model (CPU smoke run)")
    source.add_argument("--random-full-size", action="store_true", help="full-size architecture, random weights (GPU)")
    source.add_argument("--model", help="Hub id or folder of real weights")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--lightning", type=int, choices=(8, 4), default=None)
    parser.add_argument("--nunchaku", action="store_true")
    parser.add_argument("--width", type=int, default=None, help="default 64 with --tiny, else 1328")
    parser.add_argument("--height", type=int, default=None, help="default 64 with --tiny, else 1328")
    parser.add_argument("--steps", type=int, default=None, help="default 50 (Lightning: its own count)")
    parser.add_argument("--true-cfg-scale", type=float, default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=3, help="measured runs after one warm-up run")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    default_side = 64 if args.tiny else 1328
    args.width = args.width or default_side
    args.height = args.height or default_side
    return args


# --- memory ---------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def memory_report(device: torch.device) -> dict[str, float]:
    if device.type == "cuda":
        return {
            "gpu_peak_allocated_gb": torch.cuda.max_memory_allocated(device) / 2**30,
            "gpu_peak_reserved_gb": torch.cuda.max_memory_reserved(device) / 2**30,
            "gpu_allocated_gb": torch.cuda.memory_allocated(device) / 2**30,
        }
    return {"cpu_peak_rss_mb": peak_rss_mb(), "cpu_rss_mb": current_rss_mb()}


# --- engines ----------------------------------------------------------------------------------
def tiny_engine(workdir: Path) -> QwenImageEngine:
    """The tests' tiny model, saved and then loaded the way the worker loads a folder."""
    from tests.worker.tiny_qwen import save_tiny_pipeline

    folder = save_tiny_pipeline(workdir / "tiny-qwen-image")
    return QwenImageEngine(EngineConfig(model=str(folder), min_side=64))


def random_full_size_engine(lightning: int | None) -> QwenImageEngine:
    if not torch.cuda.is_available():
        raise SystemExit("--random-full-size needs a CUDA GPU with ~60 GB free (bf16 weights of 20B + 8B parameters)")
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImagePipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    from tests.worker.tiny_qwen import build_tokenizer

    device = torch.device("cuda")
    started = time.perf_counter()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)  # build straight into bf16 on the GPU: fp32 would need 112 GB
    try:
        with device:
            transformer = QwenImageTransformer2DModel(**QWEN_IMAGE_TRANSFORMER)
            vae = AutoencoderKLQwenImage(**QWEN_IMAGE_VAE)
            text_encoder = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(**QWEN_25_VL_7B)).eval()
    finally:
        torch.set_default_dtype(previous)
    scheduler = (FlowMatchEulerDiscreteScheduler.from_config(LIGHTNING_SCHEDULER_CONFIG) if lightning
                 else FlowMatchEulerDiscreteScheduler(base_image_seq_len=256, base_shift=0.5, max_image_seq_len=8192,
                                                      max_shift=0.9, use_dynamic_shifting=True, shift_terminal=0.02,
                                                      time_shift_type="exponential"))
    pipe = QwenImagePipeline(scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=build_tokenizer(),
                             transformer=transformer)
    engine = QwenImageEngine.from_pipeline(pipe, EngineConfig(lightning=lightning), revision="random-full-size")  # type: ignore[arg-type]
    engine.load_seconds = time.perf_counter() - started
    return engine


def real_engine(args: argparse.Namespace) -> QwenImageEngine:
    return QwenImageEngine(EngineConfig(model=args.model, cache_dir=args.cache_dir, lightning=args.lightning,
                                        nunchaku=args.nunchaku))


# --- the run ----------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tenkaigen-bench-") as workdir:
        if args.tiny:
            engine = tiny_engine(Path(workdir))
        elif args.random_full_size:
            engine = random_full_size_engine(args.lightning)
        else:
            engine = real_engine(args)
        engine.load()
        device = torch.device(engine.describe()["device"])
        after_load = memory_report(device)
        request = InferenceRequest(prompt=PROMPT, negative_prompt=NEGATIVE, width=args.width, height=args.height,
                                   seed=args.seed, steps=args.steps, true_cfg_scale=args.true_cfg_scale)
        engine.generate(request)  # warm-up: kernels, allocator, lazy inits
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        results: list[InferenceResult] = [engine.generate(request) for _ in range(args.runs)]
        return {
            "source": "tiny" if args.tiny else "random-full-size" if args.random_full_size else args.model,
            "device": str(device),
            "dtype": str(engine.pipeline.transformer.dtype),
            "torch": torch.__version__,
            "size": f"{args.width}x{args.height}",
            "steps": results[0].steps,
            "true_cfg_scale": results[0].true_cfg_scale,
            "runs": args.runs,
            "model_revision": results[0].model_revision,
            "load_s": round(engine.load_seconds, 3),
            "stages_mean_s": mean_stages(results),
            "memory_after_load": rounded(after_load),
            "memory_peak_during_runs": rounded(memory_report(device)),
            "png_bytes": len(results[-1].png),
        }


def mean_stages(results: list[InferenceResult]) -> dict[str, float]:
    names = [name for name in results[0].timings.as_dict() if name != "load_s"]
    stages = {name: statistics.fmean(r.timings.as_dict()[name] for r in results) for name in names}
    stages["per_step_s"] = stages["denoising_s"] / results[0].steps
    return rounded(stages)


def rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 4) for key, value in values.items()}


def print_table(report: dict[str, Any]) -> None:
    print(f"source={report['source']} device={report['device']} dtype={report['dtype']} torch={report['torch']}")
    print(f"size={report['size']} steps={report['steps']} true_cfg={report['true_cfg_scale']} runs={report['runs']} "
          f"(+1 warm-up) revision={report['model_revision']}")
    print(f"{'load':<18}{report['load_s']:>10.3f} s")
    for name, value in report["stages_mean_s"].items():
        print(f"{name.removesuffix('_s'):<18}{value:>10.4f} s")
    for title in ("memory_after_load", "memory_peak_during_runs"):
        print(title.replace("_", " ") + ": " + ", ".join(f"{k}={v}" for k, v in report[title].items()))


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
