"""How the worker loads Qwen-Image: `EngineConfig`, and `qwen_image_engine` to build an engine from it.

Importing this module loads neither torch nor diffusers, so the app's composition root can
name a local engine and pay for torch only when it builds one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from core.worker_contract.messages import MAX_SIDE, MIN_SIDE, SIZE_MULTIPLE
from modal_app.inference_errors import InvalidInferenceInput
from modal_app.lightning_lora import LIGHTNING_REPO
from modal_app.nunchaku_transformer import NUNCHAKU_REPO

if TYPE_CHECKING:
    from modal_app.inference import QwenImageEngine

DEFAULT_MODEL = "Qwen/Qwen-Image"
DEFAULT_STEPS = 50  # without Lightning; a Lightning engine always runs its distilled count


def model_name_for(lightning: int | None) -> str:
    """The engine's name in health answers and job records."""
    return "qwen-image" + (f"-lightning-{lightning}step" if lightning else "")


def default_steps(lightning: int | None) -> int:
    """The steps a job runs with when it asks for none (and always, under Lightning)."""
    return lightning or DEFAULT_STEPS


@dataclass(frozen=True)
class EngineConfig:
    """How to load the model. `model` is a Hub id or a local folder saved with `save_pretrained`."""

    model: str = DEFAULT_MODEL
    revision: str | None = None
    cache_dir: Path | None = None
    allow_download: bool = False
    lightning: Literal[4, 8] | None = None
    lightning_source: str = LIGHTNING_REPO  # Hub id or a folder holding the LoRA file
    lightning_weight_name: str | None = None  # overrides LIGHTNING_WEIGHTS[lightning]
    nunchaku: bool = False
    nunchaku_rank: Literal[32, 128] = 128
    nunchaku_source: str = NUNCHAKU_REPO
    device: str | None = None  # "cuda", "cpu"; None picks CUDA when present
    cpu_offload: bool = False  # for GPUs smaller than the bf16 model (~58 GB)
    vae_tiling: bool = False
    # "auto": FlashAttention-3 on Hopper when its kernel loads, else PyTorch SDPA ("native");
    # or a diffusers backend name ("_flash_3", "_flash_3_hub")
    attention: str = "native"
    torch_compile: bool = False  # compile the transformer's repeated blocks (slower first job, faster after)
    first_block_cache: float = 0.0  # diffusers' first-block cache threshold; 0 is off
    min_side: int = MIN_SIDE
    max_side: int = MAX_SIDE

    def __post_init__(self) -> None:
        if self.lightning not in (None, 4, 8):
            raise InvalidInferenceInput(f"`lightning` must be 4, 8 or None, got {self.lightning!r}")
        if not SIZE_MULTIPLE <= self.min_side <= self.max_side:
            raise InvalidInferenceInput(
                f"`min_side` must be at least {SIZE_MULTIPLE} and at most `max_side`, got {self.min_side}"
            )


def qwen_image_engine(
    model: str | Path,
    *,
    cache_dir: Path | None = None,
    revision: str | None = None,
    allow_download: bool = False,
    lightning: int | None = None,
    nunchaku: bool = False,
    min_side: int = MIN_SIDE,
    max_side: int = MAX_SIDE,
) -> QwenImageEngine:
    """An engine (not loaded yet) for a Qwen-Image folder or Hub id; torch is imported here."""
    from modal_app.inference import QwenImageEngine

    config = EngineConfig(
        model=str(model),
        revision=revision,
        cache_dir=cache_dir,
        allow_download=allow_download,
        lightning=lightning,  # type: ignore[arg-type]
        nunchaku=nunchaku,
        min_side=min_side,
        max_side=max_side,
    )
    return QwenImageEngine(config)
