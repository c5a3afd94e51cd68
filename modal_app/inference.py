"""Qwen-Image inference without Modal: load a `QwenImagePipeline` once, then turn requests into PNGs.

    engine = QwenImageEngine(EngineConfig(model="Qwen/Qwen-Image", cache_dir=Path("/cache")))
    engine.load()
    result = engine.generate(InferenceRequest(prompt="a red fox", width=1328, height=1328, seed=7))
    Path("fox.png").write_bytes(result.png)

Where the weights come from is `model_files`; the options fused or swapped in at load are
`lightning_lora` (8 or 4 steps) and `nunchaku_transformer` (4-bit); the request, result and
the runner that feeds the engine jobs are the worker contract's (`core.worker_contract`).
"""

from __future__ import annotations

import io
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from core.worker_contract.engine import InferenceRequest, InferenceResult, ProgressCallback, StageTimings
from core.worker_contract.messages import MAX_SEED, MAX_STEPS, MAX_TRUE_CFG_SCALE, MIN_STEPS, MIN_TRUE_CFG_SCALE
from modal_app.engine_config import DEFAULT_STEPS, EngineConfig, default_steps, model_name_for
from modal_app.inference_errors import InferenceOutOfMemory, InvalidInferenceInput, ModelWeightsMissing
from modal_app.lightning_lora import fuse_lightning, lightning_scheduler
from modal_app.model_files import describe_revision, fetch_hint, resolve_model_folder
from modal_app.nunchaku_transformer import load_nunchaku_transformer

log = logging.getLogger(__name__)

DEFAULT_TRUE_CFG = 4.0
MAX_SEQUENCE_LENGTH = 512  # the pipeline's own default
# Qwen-Image's recommendation when there is nothing to steer away from: true CFG needs *a*
# negative prompt, and a single space is the neutral one.
NEUTRAL_NEGATIVE_PROMPT = " "


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
    if request.steps is not None and (isinstance(request.steps, bool) or not MIN_STEPS <= request.steps <= MAX_STEPS):
        raise InvalidInferenceInput(f"`steps` must be between {MIN_STEPS} and {MAX_STEPS}, got {request.steps!r}")
    if request.true_cfg_scale is not None and not MIN_TRUE_CFG_SCALE <= request.true_cfg_scale <= MAX_TRUE_CFG_SCALE:
        raise InvalidInferenceInput(
            f"`true_cfg_scale` must be between {MIN_TRUE_CFG_SCALE} and {MAX_TRUE_CFG_SCALE}, "
            f"got {request.true_cfg_scale!r}"
        )


# --- attention ---------------------------------------------------------------------------
def select_attention(pipe: Any, choice: str, device: torch.device) -> str:
    """Set the transformer's attention backend; returns the one in use.

    "auto" tries FlashAttention-3 (diffusers' `_flash_3`, else the Hub kernel `_flash_3_hub`)
    on Hopper, where it is the fastest, and keeps PyTorch's SDPA ("native") when neither
    loads; a named backend that cannot load is an error, so a benchmark never measures
    something other than what it names.
    """
    if choice == "native":
        return "native"
    if choice != "auto":
        pipe.transformer.set_attention_backend(choice)
        return choice
    if device.type != "cuda" or torch.cuda.get_device_capability(device)[0] != 9:
        return "native"
    for backend in ("_flash_3", "_flash_3_hub"):
        try:
            pipe.transformer.set_attention_backend(backend)
        except (RuntimeError, ImportError, OSError, ValueError) as exc:
            log.info("attention backend %s unavailable: %s", backend, str(exc).splitlines()[0][:200])
            continue
        return backend
    pipe.transformer.set_attention_backend("native")
    return "native"


# --- the engine ------------------------------------------------------------------------------
class QwenImageEngine:
    """Loads the pipeline once (`load`, idempotent) and generates one image at a time."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.model_name = model_name_for(config.lightning)
        self.model_revision: str | None = None
        self.load_seconds = 0.0
        self._pipe: Any = None
        self._components: Any = None  # weights read for a snapshot, not yet placed and fused
        self._device: torch.device | None = None
        self.attention_backend = "native"
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
            "steps": default_steps(self.config.lightning),
            "attention": self.attention_backend,
            "torch_compile": self.config.torch_compile,
            "first_block_cache": self.config.first_block_cache,
        }

    # --- loading -----------------------------------------------------------------------
    def load(self) -> None:
        """Load the weights and make the engine ready on its device (idempotent).

        On CUDA the weights load straight into GPU memory and the Lightning LoRA is fused
        there. Raises ModelWeightsMissing, OptionalDependencyMissing (UnsupportedGpu for
        Nunchaku on a GPU its kernels do not support).
        """
        with self._load_lock:
            if self._pipe is not None:
                return
            started = time.perf_counter()
            if self._components is None:
                self._components = self._load_components(self._target_device())
            self._pipe = self._finish(self._components, self._target_device())
            self.load_seconds += time.perf_counter() - started
            log.info("model loaded model=%s revision=%s device=%s attention=%s load_s=%.1f",
                     self.model_name, self.model_revision, self._device, self.attention_backend, self.load_seconds)

    def load_for_snapshot(self) -> None:
        """Read the weights onto the device visible now, without finishing (the memory-snapshot phase).

        Without a GPU snapshot the phase sees no GPU: the weights land in CPU memory, are
        captured in the snapshot, and `load()` after the restore moves them to the GPU and
        fuses the LoRA there. With a GPU snapshot it sees the GPU and does everything.
        """
        with self._load_lock:
            if self._pipe is not None or self._components is not None:
                return
            started = time.perf_counter()
            visible = "cuda" if torch.cuda.is_available() and self.config.device != "cpu" else "cpu"
            device = torch.device(visible)
            if self.config.nunchaku and device.type != "cuda":
                return  # its 4-bit transformer loads only onto the GPU: all of it waits for `load`
            self._components = self._load_components(device)
            self.load_seconds += time.perf_counter() - started
        if device.type == "cuda":
            self.load()

    def _target_device(self) -> torch.device:
        return torch.device(self.config.device or ("cuda" if torch.cuda.is_available() else "cpu"))

    def _dtype(self) -> torch.dtype:
        # bf16 whenever the engine will run on a GPU, even while its weights wait in CPU memory
        return torch.bfloat16 if self._target_device().type == "cuda" else torch.float32

    def _load_components(self, device: torch.device) -> Any:
        from diffusers import QwenImagePipeline

        config = self.config
        dtype = self._dtype()
        folder = resolve_model_folder(config)
        revision = describe_revision(folder, config.model)

        overrides: dict[str, Any] = {}
        if config.lightning:
            overrides["scheduler"] = lightning_scheduler()
        if config.nunchaku:
            overrides["transformer"], nunchaku_revision = load_nunchaku_transformer(config, device)
            revision += f"+{nunchaku_revision}"
        # straight into GPU memory: no full copy in CPU RAM first (offload places parts itself)
        placement = {"device_map": "cuda"} if device.type == "cuda" and not config.cpu_offload else {}
        try:
            pipe = QwenImagePipeline.from_pretrained(
                folder, dtype=dtype, local_files_only=True, **placement, **overrides
            )
        except OSError as exc:
            raise ModelWeightsMissing(f"the model folder {folder} is incomplete ({exc}). {fetch_hint(config)}") from exc
        self.model_revision = revision
        return pipe

    def _finish(self, pipe: Any, device: torch.device) -> Any:
        """Place the pipeline on `device`, fuse the LoRA there, and set the speed options."""
        config = self.config
        if config.cpu_offload and device.type == "cuda":
            pipe.enable_model_cpu_offload(device=device)
        elif pipe._execution_device.type != device.type:
            pipe.to(device)
        if config.lightning and not config.nunchaku:
            self.model_revision = f"{self.model_revision}+{fuse_lightning(pipe, config)}"
        if config.vae_tiling:
            pipe.vae.enable_tiling()
        self.attention_backend = select_attention(pipe, config.attention, device)
        if config.first_block_cache > 0:
            from diffusers.hooks import FirstBlockCacheConfig

            pipe.transformer.enable_cache(FirstBlockCacheConfig(threshold=config.first_block_cache))
        if config.torch_compile:
            # the 60 identical blocks compile once each shape; the first job pays for it
            pipe.transformer.compile_repeated_blocks(fullgraph=True)
        pipe.set_progress_bar_config(disable=True)
        self._device = device
        self._components = None
        return pipe

    def planned_steps(self, request: InferenceRequest) -> int:
        """How many denoising steps `request` will run (what the first progress news announces)."""
        return self._plan(request).steps

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

    def _encode(self, text: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        embeds, mask = self._pipe.encode_prompt(
            prompt=text, device=self._pipe._execution_device, max_sequence_length=MAX_SEQUENCE_LENGTH
        )
        if self.attention_backend.startswith("_flash"):
            # FlashAttention takes no mask; one prompt's tokens are all valid, so none is needed
            return embeds, None if mask is None or bool(mask.all()) else mask
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
