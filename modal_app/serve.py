"""Self-hosting the GPU worker: `python -m modal_app.serve --model PATH [--lightning 8|4] [--nunchaku]`.

Serves the same worker app as the Modal deployment under uvicorn. The webhook secret comes
from TENKAIGEN_WEBHOOK_SECRET (the app's), and TENKAIGEN_WEBHOOK_URL, when set, is the only
webhook the worker posts to. The model loads in the background: `GET /health` answers
`"model_loaded": false` until it is ready, and jobs queue behind the load. `POST /postprocess`
loads the print models (BiRefNet, Real-ESRGAN) at its first request; without their weights it
answers 503 naming what to fetch, and the app makes its print files locally.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from core.worker_contract.messages import MAX_SIDE, MIN_SIDE
from modal_app.deployment import ATTENTION_CHOICES
from modal_app.engine_config import DEFAULT_MODEL, EngineConfig
from modal_app.inference import QwenImageEngine
from modal_app.postprocess import DEFAULT_SEGMENTER, DEFAULT_UPSCALER_URL, PostprocessConfig, PostprocessEngine
from modal_app.postprocess_job import PrintModels
from modal_app.worker_app import create_worker_app

log = logging.getLogger("tenkaigen.worker")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m modal_app.serve", description="Serve the TenkaiGen GPU worker.")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"Hub id or local folder of a Qwen-Image diffusers pipeline (default {DEFAULT_MODEL})")
    parser.add_argument("--revision", default=None, help="Hub revision (commit) to load; pin it in production")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="Hugging Face cache folder (default: HF_HUB_CACHE or ~/.cache/huggingface/hub)")
    parser.add_argument("--allow-download", action="store_true",
                        help="download missing weights from the Hub (default: use what is on disk only)")
    parser.add_argument("--lightning", type=int, choices=(8, 4), default=None,
                        help="fuse the Qwen-Image-Lightning LoRA and run 8 or 4 steps without CFG")
    parser.add_argument("--nunchaku", action="store_true", help="use Nunchaku's 4-bit transformer (needs `nunchaku`)")
    parser.add_argument("--nunchaku-rank", type=int, choices=(32, 128), default=128)
    parser.add_argument("--cpu-offload", action="store_true", help="offload idle parts to CPU (GPUs under ~60 GB)")
    parser.add_argument("--vae-tiling", action="store_true", help="decode in tiles (less memory for large images)")
    parser.add_argument("--attention", choices=ATTENTION_CHOICES, default="native",
                        help="attention backend: native (PyTorch SDPA, default), auto (FlashAttention-3 on Hopper "
                             "when its kernel loads), _flash_3, _flash_3_hub")
    parser.add_argument("--torch-compile", action="store_true",
                        help="compile the transformer's blocks (the first job of each size is slow, later ones faster)")
    parser.add_argument("--min-side", type=int, default=MIN_SIDE,
                        help=f"smallest width/height accepted (default {MIN_SIDE})")
    parser.add_argument("--max-side", type=int, default=MAX_SIDE,
                        help=f"largest width/height accepted (default {MAX_SIDE})")
    parser.add_argument("--segmenter", default=DEFAULT_SEGMENTER,
                        help=f"matting model for print cutouts: Hub id or folder (default {DEFAULT_SEGMENTER})")
    parser.add_argument("--upscaler", default=DEFAULT_UPSCALER_URL,
                        help="super-resolution weights for print upscales: a .pth/.safetensors file, or a URL "
                             "fetched into the cache folder when downloads are allowed (default Real-ESRGAN x4plus)")
    parser.add_argument("--no-print-models", action="store_true", help="serve no POST /postprocess (503)")
    parser.add_argument("--max-queue", type=int, default=16, help="jobs held beyond the running one (default 16)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    return parser.parse_args(argv)


def engine_config(args: argparse.Namespace) -> EngineConfig:
    return EngineConfig(
        model=args.model,
        revision=args.revision,
        cache_dir=args.cache_dir,
        allow_download=args.allow_download,
        lightning=args.lightning,
        nunchaku=args.nunchaku,
        nunchaku_rank=args.nunchaku_rank,
        cpu_offload=args.cpu_offload,
        vae_tiling=args.vae_tiling,
        attention=args.attention,
        torch_compile=args.torch_compile,
        min_side=args.min_side,
        max_side=args.max_side,
    )


def print_models(args: argparse.Namespace) -> PrintModels | None:
    """The print models, loaded at the first `POST /postprocess` (None with --no-print-models)."""
    if args.no_print_models:
        return None
    config = PostprocessConfig(segmenter=args.segmenter, upscaler=args.upscaler, cache_dir=args.cache_dir,
                               allow_download=args.allow_download)
    return PrintModels(lambda: PostprocessEngine.from_config(config))


def build_app(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> FastAPI:
    """The worker app for these arguments; SystemExit with the reason when the secret is missing."""
    try:
        return create_worker_app(
            QwenImageEngine(engine_config(args)),
            environ.get("TENKAIGEN_WEBHOOK_SECRET", ""),
            allowed_webhook_url=environ.get("TENKAIGEN_WEBHOOK_URL") or None,
            max_queue=args.max_queue,
            print_models=print_models(args),
        )
    except ValueError as exc:
        raise SystemExit(f"cannot start the worker: {exc}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = parse_args(argv)
    app = build_app(args)
    log.info("worker serving on http://%s:%s model=%s", args.host, args.port, args.model)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
