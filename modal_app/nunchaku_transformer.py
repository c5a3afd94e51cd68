"""Nunchaku's 4-bit Qwen-Image transformer (SVDQuant): INT4 before Blackwell, NVFP4 on it.

Its Lightning checkpoints have the distilled weights merged in, so no LoRA goes on top.
The module is not called `nunchaku` so that it never shadows the package it loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from modal_app.inference_errors import OptionalDependencyMissing
from modal_app.model_files import describe_revision, resolve_weights_file

if TYPE_CHECKING:
    import torch

    from modal_app.engine_config import EngineConfig

NUNCHAKU_REPO = "nunchaku-tech/nunchaku-qwen-image"
NUNCHAKU_LIGHTNING_SUFFIX: dict[int, str] = {8: "-lightningv1.1-8steps", 4: "-lightningv1.0-4steps"}


def nunchaku_precision(compute_capability: tuple[int, int]) -> Literal["int4", "fp4"]:
    """Nunchaku's 4-bit format for a GPU: NVFP4 on Blackwell (sm 100 and up), INT4 before it."""
    return "fp4" if compute_capability[0] >= 10 else "int4"


def nunchaku_filename(precision: str, rank: int, lightning: int | None) -> str:
    """The checkpoint's name in the Nunchaku repository."""
    suffix = NUNCHAKU_LIGHTNING_SUFFIX[lightning] if lightning else ""
    return f"svdq-{precision}_r{rank}-qwen-image{suffix}.safetensors"


def load_nunchaku_transformer(config: EngineConfig, device: torch.device) -> tuple[Any, str]:
    """The 4-bit transformer for `device`'s GPU, and its revision note."""
    try:
        from nunchaku.models.transformers.transformer_qwenimage import NunchakuQwenImageTransformer2DModel
    except ImportError as exc:
        raise OptionalDependencyMissing(
            "the Nunchaku 4-bit transformer needs the `nunchaku` package, which is not importable "
            f"({exc}). Install the wheel matching your torch and CUDA from "
            "https://github.com/nunchaku-tech/nunchaku/releases, or run without --nunchaku."
        ) from exc
    if device.type != "cuda":
        raise OptionalDependencyMissing("the Nunchaku 4-bit transformer runs on CUDA GPUs only")
    import torch

    precision = nunchaku_precision(torch.cuda.get_device_capability(device))
    filename = nunchaku_filename(precision, config.nunchaku_rank, config.lightning)
    path = resolve_weights_file(config, config.nunchaku_source, filename)
    transformer = NunchakuQwenImageTransformer2DModel.from_pretrained(str(path))
    return transformer, f"nunchaku:{describe_revision(path.parent, config.nunchaku_source)}/{filename}"
