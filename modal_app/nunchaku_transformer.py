"""Nunchaku's 4-bit Qwen-Image transformer (SVDQuant): NVFP4 on sm 120/121, INT4 on the other GPUs it supports.

Its kernels are built for sm 75/80/86/89/120/121 only: no Hopper (H100/H200) and no
datacenter Blackwell (B200), where loading is refused at start with the reason.

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


# the compute capabilities Nunchaku's wheels carry kernels for
NUNCHAKU_CAPABILITIES: frozenset[tuple[int, int]] = frozenset({(7, 5), (8, 0), (8, 6), (8, 9), (12, 0), (12, 1)})


class UnsupportedGpu(OptionalDependencyMissing):
    """Nunchaku was asked for on a GPU its kernels do not support."""


def nunchaku_precision(compute_capability: tuple[int, int]) -> Literal["int4", "fp4"]:
    """Nunchaku's 4-bit format for a GPU, as Nunchaku picks it: NVFP4 on sm 120/121, INT4 elsewhere."""
    return "fp4" if compute_capability[0] == 12 else "int4"


def check_nunchaku_gpu(compute_capability: tuple[int, int], name: str = "this GPU") -> None:
    """Raise UnsupportedGpu, naming the GPU and the supported ones, unless Nunchaku's kernels run on it."""
    if tuple(compute_capability) not in NUNCHAKU_CAPABILITIES:
        major, minor = compute_capability
        raise UnsupportedGpu(
            f"Nunchaku's 4-bit kernels do not run on {name} (sm {major}{minor}); they support sm 75/80/86/89/120/121 "
            "(T4, A10G, A100, L4, L40S, RTX 4090/5090, RTX PRO 6000). Run without Nunchaku on H100/H200/B200."
        )


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

    capability = torch.cuda.get_device_capability(device)
    check_nunchaku_gpu(capability, torch.cuda.get_device_name(device))
    precision = nunchaku_precision(capability)
    filename = nunchaku_filename(precision, config.nunchaku_rank, config.lightning)
    path = resolve_weights_file(config, config.nunchaku_source, filename)
    transformer = NunchakuQwenImageTransformer2DModel.from_pretrained(str(path))
    return transformer, f"nunchaku:{describe_revision(path.parent, config.nunchaku_source)}/{filename}"
