"""Qwen-Image inference without Modal: load a `QwenImagePipeline` once, then turn requests into PNGs.

    engine = QwenImageEngine(EngineConfig(model="Qwen/Qwen-Image", cache_dir=Path("/cache")))
    engine.load()
    result = engine.generate(InferenceRequest(prompt="a red fox", width=1328, height=1328, seed=7))
    Path("fox.png").write_bytes(result.png)

Weights come from a local folder or the Hugging Face cache only (`local_files_only=True`)
unless the operator allows downloads, so a worker never starts a 58 GB download by surprise.
Options: the Qwen-Image-Lightning LoRA (8 or 4 steps, fused at load) and a Nunchaku 4-bit
transformer (int4 before Blackwell, fp4 on it).
"""

from __future__ import annotations

import io
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

log = logging.getLogger(__name__)

DEFAULT_MODEL = "Qwen/Qwen-Image"
DEFAULT_STEPS = 50
DEFAULT_TRUE_CFG = 4.0
MAX_STEPS = 100
MAX_SEED = 2**32 - 1
MAX_SEQUENCE_LENGTH = 512  # the pipeline's own default
# Qwen-Image's recommendation when there is nothing to steer away from: true CFG needs *a*
# negative prompt, and a single space is the neutral one.
NEUTRAL_NEGATIVE_PROMPT = " "

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

NUNCHAKU_REPO = "nunchaku-tech/nunchaku-qwen-image"
# Nunchaku's Lightning checkpoints have the distilled weights merged in: no LoRA on top.
NUNCHAKU_LIGHTNING_SUFFIX: dict[int, str] = {8: "-lightningv1.1-8steps", 4: "-lightningv1.0-4steps"}

_HUB_SNAPSHOT = re.compile(r"models--(?P<org>[^/]+?)--(?P<name>[^/]+)/snapshots/(?P<commit>[0-9a-f]{40})")


# --- errors ------------------------------------------------------------------------------
class InferenceError(Exception):
    """Base of the errors this module raises on purpose; their message is meant for the user."""


class InvalidInferenceInput(InferenceError, ValueError):
    """A request parameter is out of range; the message names the parameter."""


class ModelWeightsMissing(InferenceError):
    """The weights are not on disk and downloads are not allowed; the message says how to fetch them."""


class OptionalDependencyMissing(InferenceError):
    """An option (Lightning needs `peft`, 4-bit needs `nunchaku`) was asked for without its package."""


class InferenceOutOfMemory(InferenceError):
    """The device ran out of memory for this request."""


class GenerationCanceled(InferenceError):
    """The progress callback asked to stop (the job was canceled or finished elsewhere)."""


# --- configuration, request, result ------------------------------------------------------
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
    min_side: int = 256
    max_side: int = 2048

    def __post_init__(self) -> None:
        if self.lightning not in (None, 4, 8):
            raise InvalidInferenceInput(f"`lightning` must be 4, 8 or None, got {self.lightning!r}")
        if not 16 <= self.min_side <= self.max_side:
            raise InvalidInferenceInput(f"`min_side` must be at least 16 and at most `max_side`, got {self.min_side}")


@dataclass(frozen=True)
class InferenceRequest:
    """One image to make. `steps`/`true_cfg_scale` left as None take the engine's defaults."""

    prompt: str
    width: int
    height: int
    seed: int
    negative_prompt: str = ""
    steps: int | None = None
    true_cfg_scale: float | None = None


@dataclass(frozen=True)
class StageTimings:
    load_s: float
    text_encoding_s: float
    denoising_s: float
    vae_decode_s: float
    png_encode_s: float
    total_s: float

    def as_dict(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in self.__dict__.items()}


@dataclass(frozen=True)
class InferenceResult:
    png: bytes
    seed: int
    steps: int
    width: int
    height: int
    true_cfg_scale: float
    timings: StageTimings
    model_revision: str


ProgressCallback = Callable[[int, int], None]
"""Called as `on_progress(step, total)` after each denoising step; may raise GenerationCanceled."""


@dataclass(frozen=True)
class _Plan:
    steps: int
    true_cfg_scale: float
    negative_prompt: str | None


# --- checks ------------------------------------------------------------------------------
def check_request(request: InferenceRequest, *, min_side: int, max_side: int, multiple: int) -> None:
    """Raise InvalidInferenceInput, naming the parameter, for anything the model cannot do."""
    if not isinstance(request.prompt, str) or not request.prompt.strip():
        raise InvalidInferenceInput("`prompt` must be a non-empty string")
    if not isinstance(request.negative_prompt, str):
        raise InvalidInferenceInput(f"`negative_prompt` must be a string, got {type(request.negative_prompt).__name__}")
    for name in ("width", "height"):
        value = getattr(request, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInferenceInput(f"`{name}` must be an integer, got {value!r}")
        if value % multiple or not min_side <= value <= max_side:
            raise InvalidInferenceInput(
                f"`{name}` must be a multiple of {multiple} between {min_side} and {max_side}, got {value}"
            )
    if isinstance(request.seed, bool) or not isinstance(request.seed, int) or not 0 <= request.seed <= MAX_SEED:
        raise InvalidInferenceInput(f"`seed` must be an integer between 0 and {MAX_SEED}, got {request.seed!r}")
    if request.steps is not None and (isinstance(request.steps, bool) or not 1 <= request.steps <= MAX_STEPS):
        raise InvalidInferenceInput(f"`steps` must be between 1 and {MAX_STEPS}, got {request.steps!r}")
    if request.true_cfg_scale is not None and not 1.0 <= request.true_cfg_scale <= 20.0:
        raise InvalidInferenceInput(f"`true_cfg_scale` must be between 1.0 and 20.0, got {request.true_cfg_scale!r}")


def nunchaku_precision(compute_capability: tuple[int, int]) -> Literal["int4", "fp4"]:
    """Nunchaku's 4-bit format for a GPU: NVFP4 on Blackwell (sm 100 and up), INT4 before it."""
    return "fp4" if compute_capability[0] >= 10 else "int4"


def describe_revision(folder: Path, fallback: str) -> str:
    """`org/name@commit` for a Hugging Face cache snapshot, else `local:<folder>`."""
    match = _HUB_SNAPSHOT.search(folder.resolve().as_posix())
    if match:
        return f"{match['org']}/{match['name']}@{match['commit']}"
    return f"local:{folder.resolve()}" if folder.is_dir() else fallback


def _looks_like_a_path(model: str) -> bool:
    """Hub ids are `org/name`; anything else that is not on disk is a folder that is missing."""
    return model.startswith(("/", ".", "~")) or model.count("/") != 1


# --- the engine ------------------------------------------------------------------------------
class QwenImageEngine:
    """Loads the pipeline once (`load`, idempotent) and generates one image at a time."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.model_name = "qwen-image" + (f"-lightning-{config.lightning}step" if config.lightning else "")
        self.model_revision: str | None = None
        self.load_seconds = 0.0
        self._pipe: Any = None
        self._device: torch.device | None = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @classmethod
    def from_pipeline(cls, pipeline: Any, config: EngineConfig | None = None, revision: str = "in-memory") -> QwenImageEngine:
        """An engine around a pipeline built elsewhere (random weights for benchmarks), already placed."""
        engine = cls(config or EngineConfig())
        pipeline.set_progress_bar_config(disable=True)
        engine._pipe = pipeline
        engine._device = pipeline._execution_device
        engine.model_revision = revision
        return engine

    @property
    def is_loaded(self) -> bool:
        return self._pipe is not None

    @property
    def pipeline(self) -> Any:
        """The loaded QwenImagePipeline (None before `load`)."""
        return self._pipe

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "model_revision": self.model_revision,
            "device": str(self._device) if self._device else None,
            "lightning": self.config.lightning,
            "nunchaku": self.config.nunchaku,
        }

    # --- loading -----------------------------------------------------------------------
    def load(self) -> None:
        """Load weights onto the device. Raises ModelWeightsMissing or OptionalDependencyMissing."""
        with self._load_lock:
            if self._pipe is not None:
                return
            started = time.perf_counter()
            self._pipe = self._build_pipeline()
            self.load_seconds = time.perf_counter() - started
            log.info("model loaded model=%s revision=%s device=%s load_s=%.1f",
                     self.model_name, self.model_revision, self._device, self.load_seconds)

    def _build_pipeline(self) -> Any:
        from diffusers import FlowMatchEulerDiscreteScheduler, QwenImagePipeline

        config = self.config
        device = torch.device(config.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        folder = self._resolve_model_folder()
        revision = describe_revision(folder, config.model)

        overrides: dict[str, Any] = {}
        if config.lightning:
            overrides["scheduler"] = FlowMatchEulerDiscreteScheduler.from_config(LIGHTNING_SCHEDULER_CONFIG)
        if config.nunchaku:
            overrides["transformer"], nunchaku_revision = self._load_nunchaku_transformer(device)
            revision += f"+{nunchaku_revision}"
        try:
            pipe = QwenImagePipeline.from_pretrained(folder, dtype=dtype, local_files_only=True, **overrides)
        except OSError as exc:
            raise ModelWeightsMissing(
                f"the model folder {folder} is incomplete ({exc}). {self._fetch_hint()}"
            ) from exc
        if config.lightning and not config.nunchaku:
            revision += f"+{self._fuse_lightning(pipe)}"

        if config.cpu_offload and device.type == "cuda":
            pipe.enable_model_cpu_offload(device=device)
        else:
            pipe.to(device)
        if config.vae_tiling:
            pipe.vae.enable_tiling()
        pipe.set_progress_bar_config(disable=True)
        self._device = device
        self.model_revision = revision
        return pipe

    def _fetch_hint(self) -> str:
        cache = f" --cache-dir {self.config.cache_dir}" if self.config.cache_dir else ""
        return (
            f"Fetch the weights once with `hf download {self.config.model}{cache}` (about 58 GB for Qwen-Image; "
            "on Modal: `modal run modal_app/qwen_generator.py::download_weights`), point the model setting at a "
            "folder saved with save_pretrained, or allow downloads (--allow-download / TENKAIGEN_ALLOW_DOWNLOAD=1)."
        )

    def _resolve_model_folder(self) -> Path:
        folder = Path(self.config.model).expanduser()
        if not folder.is_dir() and _looks_like_a_path(self.config.model):
            raise ModelWeightsMissing(f"the model folder {folder} does not exist. {self._fetch_hint()}")
        if folder.is_dir():
            if not (folder / "model_index.json").is_file():
                raise ModelWeightsMissing(
                    f"{folder} is not a diffusers pipeline folder: model_index.json is missing. {self._fetch_hint()}"
                )
            return folder
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            return Path(snapshot_download(
                self.config.model,
                revision=self.config.revision,
                cache_dir=self.config.cache_dir,
                local_files_only=not self.config.allow_download,
            ))
        except (LocalEntryNotFoundError, FileNotFoundError) as exc:
            where = self.config.cache_dir or "the default Hugging Face cache"
            raise ModelWeightsMissing(
                f"the weights of {self.config.model} are not in {where} and downloads are off. {self._fetch_hint()}"
            ) from exc

    def _resolve_file(self, source: str, filename: str) -> Path:
        """A weights file from a local folder or the Hub cache (downloaded only when allowed)."""
        folder = Path(source).expanduser()
        if folder.is_dir():
            path = folder / filename
            if not path.is_file():
                raise ModelWeightsMissing(f"{filename} is not in {folder}")
            return path
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            return Path(hf_hub_download(
                source, filename, cache_dir=self.config.cache_dir, local_files_only=not self.config.allow_download
            ))
        except (LocalEntryNotFoundError, FileNotFoundError) as exc:
            cache = f" --cache-dir {self.config.cache_dir}" if self.config.cache_dir else ""
            raise ModelWeightsMissing(
                f"{source}/{filename} is not in the Hugging Face cache and downloads are off. "
                f"Fetch it once with `hf download {source} {filename}{cache}`, or allow downloads."
            ) from exc

    def _fuse_lightning(self, pipe: Any) -> str:
        try:
            import peft  # noqa: F401  (diffusers loads LoRAs through peft)
        except ImportError as exc:
            raise OptionalDependencyMissing(
                "the Lightning LoRA needs the `peft` package (pip install 'peft>=0.17'), or run without Lightning"
            ) from exc
        weight_name = self.config.lightning_weight_name or LIGHTNING_WEIGHTS[self.config.lightning or 8]
        path = self._resolve_file(self.config.lightning_source, weight_name)
        pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name="lightning")
        pipe.fuse_lora(lora_scale=1.0)
        # the fused weights stay; the adapter layers go, so inference pays nothing for them
        pipe.unload_lora_weights()
        return f"lightning:{describe_revision(path.parent, self.config.lightning_source)}/{weight_name}"

    def _load_nunchaku_transformer(self, device: torch.device) -> tuple[Any, str]:
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
        precision = nunchaku_precision(torch.cuda.get_device_capability(device))
        suffix = NUNCHAKU_LIGHTNING_SUFFIX[self.config.lightning] if self.config.lightning else ""
        filename = f"svdq-{precision}_r{self.config.nunchaku_rank}-qwen-image{suffix}.safetensors"
        path = self._resolve_file(self.config.nunchaku_source, filename)
        transformer = NunchakuQwenImageTransformer2DModel.from_pretrained(str(path))
        return transformer, f"nunchaku:{describe_revision(path.parent, self.config.nunchaku_source)}/{filename}"

    # --- generating --------------------------------------------------------------------
    def _plan(self, request: InferenceRequest) -> _Plan:
        """Steps and guidance a request runs with: Lightning always runs its distilled step count."""
        if self.config.lightning:
            steps = self.config.lightning
            if request.steps not in (None, steps):
                log.info("lightning runs %d steps, not the %d asked for", steps, request.steps)
            cfg = request.true_cfg_scale if request.true_cfg_scale is not None else 1.0
        else:
            steps = request.steps or DEFAULT_STEPS
            cfg = request.true_cfg_scale if request.true_cfg_scale is not None else DEFAULT_TRUE_CFG
        negative = (request.negative_prompt.strip() or NEUTRAL_NEGATIVE_PROMPT) if cfg > 1.0 else None
        return _Plan(steps=steps, true_cfg_scale=cfg, negative_prompt=negative)

    def generate(self, request: InferenceRequest, on_progress: ProgressCallback | None = None) -> InferenceResult:
        """One PNG, the same bytes for the same request and seed on the same machine.

        Raises InvalidInferenceInput, InferenceOutOfMemory, GenerationCanceled, and the load errors.
        """
        self.load()
        multiple = self._pipe.vae_scale_factor * 2
        check_request(request, min_side=self.config.min_side, max_side=self.config.max_side, multiple=multiple)
        with self._run_lock:
            try:
                return self._generate(request, self._plan(request), on_progress)
            except (torch.OutOfMemoryError, MemoryError) as exc:
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                raise InferenceOutOfMemory(
                    f"out of memory generating {request.width}x{request.height}: {str(exc).splitlines()[0][:300]}"
                ) from exc

    @torch.inference_mode()
    def _generate(self, request: InferenceRequest, plan: _Plan, on_progress: ProgressCallback | None) -> InferenceResult:
        pipe = self._pipe
        clock = _Stopwatch(self._device)
        # CPU generator: the same seed gives the same starting noise on any device
        generator = torch.Generator(device="cpu").manual_seed(request.seed)

        # 1. Encode the prompt, and the negative prompt when true CFG is on
        prompt_embeds, prompt_mask = self._encode(request.prompt)
        negative_embeds = negative_mask = None
        if plan.negative_prompt is not None:
            negative_embeds, negative_mask = self._encode(plan.negative_prompt)
        text_s = clock.lap()

        # 2. Denoise to packed latents, reporting each step
        def step_end(_pipe: Any, step: int, _timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
            if on_progress is not None:
                on_progress(step + 1, plan.steps)
            return callback_kwargs

        latents = pipe(
            prompt_embeds=prompt_embeds,
            prompt_embeds_mask=prompt_mask,
            negative_prompt_embeds=negative_embeds,
            negative_prompt_embeds_mask=negative_mask,
            true_cfg_scale=plan.true_cfg_scale,
            width=request.width,
            height=request.height,
            num_inference_steps=plan.steps,
            generator=generator,
            output_type="latent",
            callback_on_step_end=step_end,
            max_sequence_length=MAX_SEQUENCE_LENGTH,
        ).images
        denoise_s = clock.lap()

        # 3. Decode with the VAE
        image = self._decode(latents, request.width, request.height)
        decode_s = clock.lap()

        # 4. Encode the PNG
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        png_s = clock.lap()

        timings = StageTimings(
            load_s=self.load_seconds,
            text_encoding_s=text_s,
            denoising_s=denoise_s,
            vae_decode_s=decode_s,
            png_encode_s=png_s,
            total_s=clock.total(),
        )
        return InferenceResult(
            png=buffer.getvalue(),
            seed=request.seed,
            steps=plan.steps,
            width=request.width,
            height=request.height,
            true_cfg_scale=plan.true_cfg_scale,
            timings=timings,
            model_revision=self.model_revision or self.config.model,
        )

    def _encode(self, text: str) -> tuple[torch.Tensor, torch.Tensor]:
        embeds, mask = self._pipe.encode_prompt(
            prompt=text, device=self._pipe._execution_device, max_sequence_length=MAX_SEQUENCE_LENGTH
        )
        if mask is None:  # all tokens valid; passing the mask keeps the pipeline from warning about it
            mask = torch.ones(embeds.shape[:2], dtype=torch.long, device=embeds.device)
        return embeds, mask

    def _decode(self, latents: torch.Tensor, width: int, height: int) -> Any:
        # what QwenImagePipeline does after its loop for output_type="pil", done here to time it
        pipe = self._pipe
        vae = pipe.vae
        latents = pipe._unpack_latents(latents, height, width, pipe.vae_scale_factor).to(vae.dtype)
        shape = (1, vae.config.z_dim, 1, 1, 1)
        mean = torch.tensor(vae.config.latents_mean).view(shape).to(latents.device, latents.dtype)
        std = torch.tensor(vae.config.latents_std).view(shape).to(latents.device, latents.dtype)
        latents = latents * std + mean
        decoded = vae.decode(latents, return_dict=False)[0][:, :, 0]
        return pipe.image_processor.postprocess(decoded, output_type="pil")[0]


@dataclass
class _Stopwatch:
    """Stage times; on CUDA it waits for queued kernels so each stage gets its own time."""

    device: torch.device | None
    _start: float = field(default_factory=time.perf_counter)
    _last: float = 0.0

    def __post_init__(self) -> None:
        self._last = self._start

    def lap(self) -> float:
        if self.device is not None and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        now = time.perf_counter()
        elapsed, self._last = now - self._last, now
        return elapsed

    def total(self) -> float:
        return self._last - self._start
