"""bench/bench_inference.py: the CPU smoke run works, and the full-size configs are the published ones."""

from __future__ import annotations

import pytest
import torch

from bench.bench_inference import QWEN_25_VL_7B, QWEN_IMAGE_TRANSFORMER, QWEN_IMAGE_VAE, parse_args, run


def billions(module: torch.nn.Module) -> float:
    return round(sum(p.numel() for p in module.parameters()) / 1e9, 2)


def test_the_full_size_configs_build_the_published_parameter_counts():
    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    with torch.device("meta"):  # shapes only: no memory, no weights
        transformer = QwenImageTransformer2DModel(**QWEN_IMAGE_TRANSFORMER)
        vae = AutoencoderKLQwenImage(**QWEN_IMAGE_VAE)
        text_encoder = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(**QWEN_25_VL_7B))
    assert (billions(transformer), billions(text_encoder), billions(vae)) == (20.43, 8.29, 0.13)


@pytest.mark.slow
def test_the_tiny_cpu_run_reports_every_stage_and_the_peak_memory():
    report = run(parse_args(["--tiny", "--runs", "1", "--steps", "2"]))
    assert (report["device"], report["size"], report["steps"]) == ("cpu", "64x64", 2)
    assert {"text_encoding_s", "denoising_s", "vae_decode_s", "png_encode_s", "total_s", "per_step_s"} == set(
        report["stages_mean_s"])
    assert report["memory_peak_during_runs"]["cpu_peak_rss_mb"] > 0


def test_the_gpu_check_counts_transformer_passes_with_and_without_cfg():
    from bench.gpu_check import parse_args as check_args
    from bench.gpu_check import request_for, transformer_passes

    assert transformer_passes(request_for(1328, 8)) == 8  # Lightning: no CFG
    assert transformer_passes(request_for(1328, 50)) == 100  # full model: true CFG doubles each step
    args = check_args([])
    assert (args.size, args.steps, args.variants) == (1328, [8, 50], ["eager", "fa3", "compiled"])


@pytest.mark.slow
def test_the_gpu_check_runs_on_the_tiny_model_and_reports_a_variant_it_cannot_run_as_skipped():
    from bench.gpu_check import parse_args as check_args
    from bench.gpu_check import run as check_run

    report = check_run(check_args(["--tiny", "--variants", "eager,fa3", "--steps", "2"]))
    eager = report["variants"]["eager"]
    assert eager["attention"] == "native" and eager["runs"]["2"]["transformer_passes"] == 2
    assert {"text_encoding_s", "denoising_s", "vae_decode_s", "total_s"} <= set(eager["runs"]["2"]["stages_s"])
    assert "FlashAttention-3" in report["variants"]["fa3"]["skipped"]
    assert report["transformer_tflop_per_pass"] >= 0
