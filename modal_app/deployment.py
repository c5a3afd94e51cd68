"""What `modal deploy` decides once and every container must see: `DeploySettings`.

`modal deploy modal_app/qwen_generator.py` imports the module in the operator's shell, where
TENKAIGEN_LIGHTNING and friends are set; Modal then imports it again inside each container,
where only the image's ENV, the secrets and Modal's own variables exist. So the values read at
deploy time are written into the image (`image.env(settings.image_env())`) together with a
marker, and a container that finds no marker refuses to start instead of quietly running the
defaults. Importing this module loads neither modal nor torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

from modal_app.nunchaku_transformer import NUNCHAKU_CAPABILITIES, nunchaku_precision

# Set in every image `modal deploy` builds; Modal sets MODAL_IS_REMOTE=1 in its containers.
BAKED_MARKER = "TENKAIGEN_DEPLOY_BAKED"
MODAL_REMOTE_VARIABLE = "MODAL_IS_REMOTE"

# Modal's GPU names and their compute capability, for refusing a Nunchaku deploy before it builds.
MODAL_GPU_CAPABILITY: dict[str, tuple[int, int]] = {
    "T4": (7, 5), "L4": (8, 9), "A10G": (8, 6), "A10": (8, 6), "L40S": (8, 9), "A100": (8, 0),
    "A100-40GB": (8, 0), "A100-80GB": (8, 0), "H100": (9, 0), "H100!": (9, 0), "H200": (9, 0),
    "B200": (10, 0), "RTX-PRO-6000": (12, 0),
}
ATTENTION_CHOICES = ("auto", "native", "_flash_3", "_flash_3_hub")


class DeploySettingsError(ValueError):
    """A deploy-time setting is malformed or names a combination that cannot run."""


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise DeploySettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise DeploySettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class DeploySettings:
    """The Modal deployment's choices. Defaults: the fast warm path on an H100.

    Lightning 8: 8 distilled steps without CFG are ~12x fewer transformer passes than 50 with
    CFG, at the quality the studio's designs need (`TENKAIGEN_LIGHTNING=off` for the full model).
    Attention `auto`: FlashAttention-3 (Hopper) when its kernel loads, else PyTorch's SDPA.
    torch.compile and the first-block cache stay off: compile adds minutes to each cold start,
    the cache trades detail for speed; both are there to measure (`bench/gpu_check.py`).
    """

    model_revision: str | None = None
    lightning: Literal[4, 8] | None = 8
    nunchaku_wheel: str = ""
    gpu: str = "H100"
    print_gpu: str = "L4"  # the print models (BiRefNet, Real-ESRGAN) need ~4 GB, not an H100
    max_containers: int = 4  # the cost ceiling: at most this many GPUs at once
    min_containers: int = 0  # >0 keeps GPUs warm (working hours), at their idle cost
    scaledown_window_s: int = 120  # idle GPU kept this long for the designer's next prompt
    job_timeout_s: int = 600  # one job's ceiling, load included (the Lightning job takes seconds)
    attention: str = "auto"
    torch_compile: bool = False
    first_block_cache: float = 0.0  # threshold; 0 is off

    def __post_init__(self) -> None:
        if self.lightning not in (None, 4, 8):
            raise DeploySettingsError(f"TENKAIGEN_LIGHTNING must be 8, 4 or off, got {self.lightning!r}")
        if self.attention not in ATTENTION_CHOICES:
            raise DeploySettingsError(f"TENKAIGEN_ATTENTION must be one of {', '.join(ATTENTION_CHOICES)}, got {self.attention!r}")
        if self.min_containers > self.max_containers:
            raise DeploySettingsError("TENKAIGEN_MODAL_MIN_CONTAINERS must not exceed TENKAIGEN_MODAL_MAX_CONTAINERS")
        if not 0.0 <= self.first_block_cache < 1.0:
            raise DeploySettingsError(f"TENKAIGEN_FIRST_BLOCK_CACHE must be in [0, 1), got {self.first_block_cache}")
        if self.nunchaku:
            capability = MODAL_GPU_CAPABILITY.get(self.gpu.split(":")[0].upper())
            if capability is not None and capability not in NUNCHAKU_CAPABILITIES:
                raise DeploySettingsError(
                    f"Nunchaku's kernels do not run on {self.gpu} (sm {capability[0]}{capability[1]}); they support "
                    "T4, A10G, A100, L4, L40S and RTX-PRO-6000. Set TENKAIGEN_MODAL_GPU to one of those, or unset "
                    "TENKAIGEN_NUNCHAKU_WHEEL to run the bf16 model on an H100."
                )

    @property
    def nunchaku(self) -> bool:
        return bool(self.nunchaku_wheel)

    @property
    def nunchaku_precision(self) -> Literal["int4", "fp4"]:
        """Which Nunchaku weights the GPU type needs (what `download_weights` fetches)."""
        return nunchaku_precision(MODAL_GPU_CAPABILITY.get(self.gpu.split(":")[0].upper(), (8, 9)))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> DeploySettings:
        lightning_raw = environ.get("TENKAIGEN_LIGHTNING", "").strip().lower()
        if lightning_raw in ("", "default"):
            lightning: int | None = cls.lightning
        elif lightning_raw in ("0", "off", "none", "false"):
            lightning = None
        elif lightning_raw in ("4", "8"):
            lightning = int(lightning_raw)
        else:
            raise DeploySettingsError(f"TENKAIGEN_LIGHTNING must be 8, 4 or off, got {lightning_raw!r}")
        cache_raw = environ.get("TENKAIGEN_FIRST_BLOCK_CACHE", "").strip() or "0"
        try:
            first_block_cache = float(cache_raw)
        except ValueError:
            raise DeploySettingsError(f"TENKAIGEN_FIRST_BLOCK_CACHE must be a number, got {cache_raw!r}") from None
        return cls(
            model_revision=environ.get("TENKAIGEN_MODEL_REVISION", "").strip() or None,
            lightning=lightning,  # type: ignore[arg-type]
            nunchaku_wheel=environ.get("TENKAIGEN_NUNCHAKU_WHEEL", "").strip(),
            gpu=environ.get("TENKAIGEN_MODAL_GPU", "").strip() or cls.gpu,
            print_gpu=environ.get("TENKAIGEN_MODAL_PRINT_GPU", "").strip() or cls.print_gpu,
            max_containers=_int(environ, "TENKAIGEN_MODAL_MAX_CONTAINERS", cls.max_containers, 1, 100),
            min_containers=_int(environ, "TENKAIGEN_MODAL_MIN_CONTAINERS", cls.min_containers, 0, 100),
            scaledown_window_s=_int(environ, "TENKAIGEN_MODAL_SCALEDOWN_S", cls.scaledown_window_s, 2, 3600),
            job_timeout_s=_int(environ, "TENKAIGEN_MODAL_JOB_TIMEOUT_S", cls.job_timeout_s, 60, 3600),
            attention=environ.get("TENKAIGEN_ATTENTION", "").strip() or cls.attention,
            torch_compile=_flag(environ, "TENKAIGEN_TORCH_COMPILE"),
            first_block_cache=first_block_cache,
        )

    @classmethod
    def for_this_process(cls, environ: Mapping[str, str]) -> DeploySettings:
        """The settings in force: the shell's at deploy time, the baked ones in a container.

        Raises DeploySettingsError in a Modal container whose image was not built by this
        module (no marker): running on defaults there would silently drop the operator's choices.
        """
        if environ.get(MODAL_REMOTE_VARIABLE) == "1" and environ.get(BAKED_MARKER) != "1":
            raise DeploySettingsError(
                f"this container's image carries no deploy settings ({BAKED_MARKER} unset): "
                "redeploy with `modal deploy modal_app/qwen_generator.py`"
            )
        return cls.from_environ(environ)

    def image_env(self) -> dict[str, str]:
        """The ENV lines that carry these settings into every container (strings, all keys present)."""
        return {
            BAKED_MARKER: "1",
            "TENKAIGEN_MODEL_REVISION": self.model_revision or "",
            "TENKAIGEN_LIGHTNING": str(self.lightning) if self.lightning else "off",
            "TENKAIGEN_NUNCHAKU_WHEEL": self.nunchaku_wheel,
            "TENKAIGEN_MODAL_GPU": self.gpu,
            "TENKAIGEN_MODAL_PRINT_GPU": self.print_gpu,
            "TENKAIGEN_MODAL_MAX_CONTAINERS": str(self.max_containers),
            "TENKAIGEN_MODAL_MIN_CONTAINERS": str(self.min_containers),
            "TENKAIGEN_MODAL_SCALEDOWN_S": str(self.scaledown_window_s),
            "TENKAIGEN_MODAL_JOB_TIMEOUT_S": str(self.job_timeout_s),
            "TENKAIGEN_ATTENTION": self.attention,
            "TENKAIGEN_TORCH_COMPILE": "1" if self.torch_compile else "0",
            "TENKAIGEN_FIRST_BLOCK_CACHE": repr(self.first_block_cache),
        }

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

