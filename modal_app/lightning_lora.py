"""The Qwen-Image-Lightning LoRA: 8 or 4 distilled steps without CFG, fused into the transformer at load.

Its scheduler settings come with the LoRA; `fuse_lightning` loads the weights through peft,
fuses them, and drops the adapter layers so inference pays nothing for them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from modal_app.inference_errors import OptionalDependencyMissing
from modal_app.model_files import describe_revision, resolve_weights_file

if TYPE_CHECKING:
    from modal_app.engine_config import EngineConfig

LIGHTNING_REPO = "lightx2v/Qwen-Image-Lightning"
LIGHTNING_WEIGHTS: dict[int, str] = {
    8: "Qwen-Image-Lightning-8steps-V1.1.safetensors",
    4: "Qwen-Image-Lightning-4steps-V1.0.safetensors",
}
# Published with the LoRA (ModelTC/Qwen-Image-Lightning, generate_with_diffusers.py): the
# distillation used shift=3, so both shifts are log(3) and the shift is dynamic and exponential.
LIGHTNING_SCHEDULER_CONFIG: dict[str, Any] = {
    "base_image_seq_len": 256,
    "base_shift": math.log(3),
    "invert_sigmas": False,
    "max_image_seq_len": 8192,
    "max_shift": math.log(3),
    "num_train_timesteps": 1000,
    "shift": 1.0,
    "shift_terminal": None,
    "stochastic_sampling": False,
    "time_shift_type": "exponential",
    "use_beta_sigmas": False,
    "use_dynamic_shifting": True,
    "use_exponential_sigmas": False,
    "use_karras_sigmas": False,
}


def lightning_scheduler() -> Any:
    """The FlowMatch scheduler the distilled steps expect."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler.from_config(LIGHTNING_SCHEDULER_CONFIG)


def fuse_lightning(pipe: Any, config: EngineConfig) -> str:
    """Fuse the LoRA `config` names into `pipe`'s transformer; returns its revision note."""
    try:
        import peft  # noqa: F401  (diffusers loads LoRAs through peft)
    except ImportError as exc:
        raise OptionalDependencyMissing(
            "the Lightning LoRA needs the `peft` package (pip install 'peft>=0.17'), or run without Lightning"
        ) from exc
    weight_name = config.lightning_weight_name or LIGHTNING_WEIGHTS[config.lightning or 8]
    path = resolve_weights_file(config, config.lightning_source, weight_name)
    pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name="lightning")
    pipe.fuse_lora(lora_scale=1.0)
    # the fused weights stay; the adapter layers go, so inference pays nothing for them
    pipe.unload_lora_weights()
    return f"lightning:{describe_revision(path.parent, config.lightning_source)}/{weight_name}"
