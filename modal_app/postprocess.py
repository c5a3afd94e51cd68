"""Print post-processing on the GPU: a matting model's cutout and a super-resolution upscale.

    engine = PostprocessEngine.from_config(PostprocessConfig(cache_dir=Path("/cache")))
    rgba_png = engine.cutout(png)                 # the subject kept, its background transparent
    print_png = engine.upscale(rgba_png, 2250, 2250)  # exactly the print file's pixel size

The cutout is BiRefNet (MIT; `ZhengPeng7/BiRefNet`), loaded with transformers'
`AutoModelForImageSegmentation` and its own code from the model folder (`trust_remote_code`),
from disk only unless downloads are allowed. The upscale is Real-ESRGAN (BSD-3;
`RealESRGAN_x4plus.pth`), its architecture read from the state dict by `spandrel`; the model's
×2 or ×4 pass is followed by one Lanczos resize to the exact size, and the alpha channel, which
the model does not see, is resized with Lanczos alone. Any folder whose config maps
`AutoModelForImageSegmentation` to a module returning mask logits (a list whose last item is
the final mask, as BiRefNet's does) loads the same way: the tests save a tiny random one.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import sys
import threading
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from core.worker_contract.messages import POSTPROCESS_OPERATIONS
from modal_app.inference_errors import InferenceOutOfMemory, InvalidInferenceInput, ModelWeightsMissing

log = logging.getLogger(__name__)

DEFAULT_SEGMENTER = "ZhengPeng7/BiRefNet"
DEFAULT_UPSCALER_URL = "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth"
UPSCALER_FOLDER = "tenkaigen-upscalers"  # where a downloaded upscaler file lands inside the cache folder
SEGMENT_SIDE = 1024  # BiRefNet's training resolution: every image is matted at 1024²
UPSCALE_TILE = 512  # input pixels per tile side: bounds GPU memory whatever the print size
UPSCALE_TILE_PAD = 16  # context around each tile, cropped away, so tiles meet without seams
MAX_INPUT_SIDE = 4096
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class PostprocessConfig:
    """Where the two models come from and how they run.

    `segmenter`: a folder or a Hub id of a matting model (BiRefNet's layout); `upscaler`: a
    `.pth`/`.safetensors` file, or an https URL fetched into `cache_dir` when downloads are
    allowed. None leaves that operation out (its requests fail with a message).
    """

    segmenter: str | None = DEFAULT_SEGMENTER
    segmenter_revision: str | None = None
    segmenter_label: str = "BiRefNet"
    upscaler: str | None = DEFAULT_UPSCALER_URL
    upscaler_label: str = "Real-ESRGAN"
    cache_dir: Path | None = None
    allow_download: bool = False
    device: str | None = None  # None: CUDA when present
    segment_side: int = SEGMENT_SIDE
    tile: int = UPSCALE_TILE
    tile_pad: int = UPSCALE_TILE_PAD


@dataclass(frozen=True)
class PostprocessOutput:
    png: bytes
    width: int
    height: int
    made_by: str
    alpha_coverage: float | None  # share of opaque pixels after a cutout
    timings: dict[str, float] = field(default_factory=dict)


# --- loading -----------------------------------------------------------------------------
def import_spandrel() -> Any:
    """spandrel, imported even where torchvision is missing.

    spandrel's registry imports every architecture it knows, and two of them (LaMa,
    RestoreFormer; neither used here) import torchvision at module level. Where torchvision is
    not installed (CPU machines whose torch build has no matching torchvision wheel), those two
    are imported against a placeholder that raises if ever called, then the placeholder is
    removed so nothing else mistakes it for torchvision.
    """
    if "spandrel" in sys.modules or importlib.util.find_spec("torchvision") is not None:
        import spandrel

        return spandrel
    names = ("torchvision", "torchvision.transforms", "torchvision.transforms.functional")

    def missing(*_: Any, **__: Any) -> Any:
        raise ModuleNotFoundError("torchvision is not installed")

    functional = types.ModuleType(names[2])
    functional.__getattr__ = lambda _name: missing  # type: ignore[method-assign]
    placeholders = {names[0]: types.ModuleType(names[0]), names[1]: types.ModuleType(names[1]), names[2]: functional}
    sys.modules.update(placeholders)
    try:
        import spandrel
    finally:
        for name in names:
            if sys.modules.get(name) is placeholders[name]:
                del sys.modules[name]
    return spandrel


def _segmenter_hint(config: PostprocessConfig) -> str:
    cache = f" --cache-dir {config.cache_dir}" if config.cache_dir else ""
    return (f"Fetch it once with `hf download {config.segmenter or DEFAULT_SEGMENTER}{cache}` (about 900 MB; on Modal: "
            "`modal run modal_app/qwen_generator.py::download_print_weights`), or allow downloads "
            "(--allow-download / TENKAIGEN_ALLOW_DOWNLOAD=1).")


def resolve_segmenter_folder(config: PostprocessConfig) -> Path:
    """The matting model's folder: on disk, or its snapshot in the Hub cache."""
    assert config.segmenter
    folder = Path(config.segmenter).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ModelWeightsMissing(f"{folder} is not a model folder: config.json is missing. {_segmenter_hint(config)}")
        return folder
    if config.segmenter.startswith(("/", ".", "~")) or config.segmenter.count("/") != 1:
        raise ModelWeightsMissing(f"the matting model folder {folder} does not exist. {_segmenter_hint(config)}")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(config.segmenter, revision=config.segmenter_revision,
                                      cache_dir=config.cache_dir, local_files_only=not config.allow_download))
    except (LocalEntryNotFoundError, FileNotFoundError) as exc:
        where = config.cache_dir or "the default Hugging Face cache"
        raise ModelWeightsMissing(
            f"the matting model {config.segmenter} is not in {where} and downloads are off. {_segmenter_hint(config)}"
        ) from exc


def load_segmenter(config: PostprocessConfig) -> torch.nn.Module:
    """The matting model, by transformers' Auto class and the folder's own code (BiRefNet ships its code)."""
    from transformers import AutoModelForImageSegmentation

    folder = resolve_segmenter_folder(config)
    try:
        model = AutoModelForImageSegmentation.from_pretrained(folder, trust_remote_code=True, local_files_only=True)
    except OSError as exc:
        raise ModelWeightsMissing(f"the matting model folder {folder} is incomplete ({exc}). {_segmenter_hint(config)}") from exc
    return model.eval()


def upscaler_file(config: PostprocessConfig) -> Path:
    """The upscaler's weights file: the path given, or the URL's file in the cache folder (fetched when allowed)."""
    assert config.upscaler
    if not config.upscaler.startswith(("https://", "http://")):
        path = Path(config.upscaler).expanduser()
        if not path.is_file():
            raise ModelWeightsMissing(f"the upscaler weights {path} do not exist: download {DEFAULT_UPSCALER_URL} there.")
        return path
    cache = config.cache_dir or Path.home() / ".cache" / "huggingface" / "hub"
    path = cache / UPSCALER_FOLDER / config.upscaler.rsplit("/", 1)[-1]
    if path.is_file():
        return path
    if not config.allow_download:
        raise ModelWeightsMissing(
            f"the upscaler weights are not at {path} and downloads are off. Fetch them once with "
            f"`curl -L {config.upscaler} -o {path}` (67 MB; on Modal: "
            "`modal run modal_app/qwen_generator.py::download_print_weights`), or allow downloads."
        )
    import httpx

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".part")
    with httpx.stream("GET", config.upscaler, follow_redirects=True, timeout=60.0) as response:
        response.raise_for_status()
        with partial.open("wb") as handle:
            for chunk in response.iter_bytes():
                handle.write(chunk)
    partial.replace(path)
    return path


def load_upscaler(path: Path) -> Any:
    """A super-resolution model from its weights file; spandrel tells the architecture from the keys."""
    spandrel = import_spandrel()
    loader = spandrel.ModelLoader()
    try:
        state_dict = loader.load_state_dict_from_file(path)
        descriptor = loader.load_from_state_dict(state_dict)
    except spandrel.UnsupportedModelError as exc:
        raise ModelWeightsMissing(f"{path} is not a super-resolution model spandrel knows: {exc}") from exc
    if not isinstance(descriptor, spandrel.ImageModelDescriptor) or descriptor.scale < 2:
        raise ModelWeightsMissing(f"{path} is not an upscaler (architecture {descriptor.architecture.name})")
    return descriptor.eval()


# --- image helpers ----------------------------------------------------------------------------
def _open(png: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(png))
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInferenceInput(f"`image` is not a readable image: {exc}") from exc
    if max(image.size) > MAX_INPUT_SIDE:
        raise InvalidInferenceInput(f"`image` must be at most {MAX_INPUT_SIDE} px a side, got {image.size}")
    return image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # the app encodes the print file itself
    return buffer.getvalue()


def alpha_coverage(image: Image.Image) -> float:
    """The share of pixels at least half opaque."""
    alpha = np.asarray(image.getchannel("A"))
    return float((alpha >= 128).mean())


def check_size(width: int, height: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 8192:
            raise InvalidInferenceInput(f"`{name}` must be an integer between 1 and 8192, got {value!r}")


# --- the engine ------------------------------------------------------------------------------
class PostprocessEngine:
    """Both models, loaded once; `cutout` and `upscale` take and give PNG bytes."""

    def __init__(
        self,
        segmenter: torch.nn.Module | None,
        upscaler: Any | None,
        config: PostprocessConfig | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        self.config = config or PostprocessConfig()
        self.device = torch.device(device or self.config.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        # half precision on the GPU (both models are trained for it; twice the speed), fp32 on a CPU
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.segmenter = segmenter.to(self.device, self.dtype).eval() if segmenter is not None else None
        if upscaler is not None:
            upscaler = upscaler.to(self.device)
            if self.dtype == torch.float16 and upscaler.supports_half:
                upscaler = upscaler.half()
        self.upscaler = upscaler
        self._lock = threading.Lock()  # one image at a time per model

    @classmethod
    def from_config(cls, config: PostprocessConfig) -> PostprocessEngine:
        """Load the configured models; ModelWeightsMissing naming what is missing and how to fetch it."""
        started = time.perf_counter()
        segmenter = load_segmenter(config) if config.segmenter else None
        upscaler = load_upscaler(upscaler_file(config)) if config.upscaler else None
        engine = cls(segmenter, upscaler, config)
        log.info("print models loaded segmenter=%s upscaler=%s device=%s load_s=%.1f",
                 config.segmenter, config.upscaler, engine.device, time.perf_counter() - started)
        return engine

    def describe(self) -> dict[str, Any]:
        return {
            "segmenter": self.config.segmenter_label if self.segmenter is not None else None,
            "upscaler": self.config.upscaler_label if self.upscaler is not None else None,
            "upscaler_scale": self.upscaler.scale if self.upscaler is not None else None,
            "device": str(self.device),
        }

    # --- the two operations ------------------------------------------------------------------
    def cutout(self, png: bytes) -> bytes:
        """The image as RGBA PNG of the same size, the alpha from the matting model."""
        return _png(self._cutout(_open(png)))

    def upscale(self, png: bytes, width: int, height: int) -> bytes:
        """The image at exactly width × height (RGBA stays RGBA)."""
        check_size(width, height)
        image, _ = self._upscale(_open(png), width, height)
        return _png(image)

    def run(self, png: bytes, operations: Sequence[str], width: int, height: int) -> PostprocessOutput:
        """The operations in order (cutout before upscale); the result is always width × height."""
        unknown = [op for op in operations if op not in POSTPROCESS_OPERATIONS]
        if unknown or not operations:
            raise InvalidInferenceInput(f"`operations` must name {' and/or '.join(POSTPROCESS_OPERATIONS)}, got {list(operations)}")
        check_size(width, height)
        image = _open(png)
        timings: dict[str, float] = {}
        steps: list[str] = []
        coverage = None
        try:
            if "cutout" in operations:
                started = time.perf_counter()
                image = self._cutout(image)
                coverage = alpha_coverage(image)
                timings["cutout_s"] = round(time.perf_counter() - started, 4)
                steps.append(f"{self.config.segmenter_label} cutout")
            started = time.perf_counter()
            image, how = self._upscale(image, width, height)
            timings["upscale_s"] = round(time.perf_counter() - started, 4)
            steps.append(how)
        except (torch.OutOfMemoryError, MemoryError) as exc:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            raise InferenceOutOfMemory(f"out of memory post-processing to {width}x{height}: "
                                       f"{str(exc).splitlines()[0][:300]}") from exc
        started = time.perf_counter()
        out = _png(image)
        timings["png_encode_s"] = round(time.perf_counter() - started, 4)
        return PostprocessOutput(out, width, height, "worker: " + ", ".join(steps), coverage, timings)

    # --- the models ----------------------------------------------------------------------
    @torch.inference_mode()
    def _cutout(self, image: Image.Image) -> Image.Image:
        if self.segmenter is None:
            raise InvalidInferenceInput("this worker has no matting model: `cutout` is unavailable")
        rgb = image.convert("RGB")
        side = self.config.segment_side
        # 1. Resize to the model's square input and normalise as it was trained (ImageNet statistics)
        pixels = torch.from_numpy(np.asarray(rgb.resize((side, side), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0)
        mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        batch = ((pixels.permute(2, 0, 1).unsqueeze(0) - mean) / std).to(self.device, self.dtype)
        # 2. Predict the mask: BiRefNet returns its decoder's outputs, the last one final
        with self._lock:
            output = self.segmenter(batch)
        logits = output[-1] if isinstance(output, (list, tuple)) else getattr(output, "logits", output)
        # 3. Back to the image's size as alpha
        mask = F.interpolate(logits.float().sigmoid(), size=(rgb.height, rgb.width), mode="bilinear", align_corners=False)
        alpha = (mask[0, 0].clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy()
        result = rgb.convert("RGBA")
        result.putalpha(Image.fromarray(alpha, mode="L"))
        return result

    def _upscale(self, image: Image.Image, width: int, height: int) -> tuple[Image.Image, str]:
        """The image at width × height, and how it got there (for made_by)."""
        needed = max(width / image.width, height / image.height)
        if needed <= 1.0 or self.upscaler is None:
            if needed > 1.0:
                raise InvalidInferenceInput("this worker has no upscaler: `upscale` is unavailable")
            return image.resize((width, height), Image.Resampling.LANCZOS), "Lanczos resize"
        alpha = image.getchannel("A") if image.mode == "RGBA" else None
        enlarged = self._super_resolve(image.convert("RGB"))
        result = enlarged.resize((width, height), Image.Resampling.LANCZOS)
        if alpha is not None:
            result.putalpha(alpha.resize((width, height), Image.Resampling.LANCZOS))
        return result, f"{self.config.upscaler_label} ×{self.upscaler.scale} upscale"

    @torch.inference_mode()
    def _super_resolve(self, rgb: Image.Image) -> Image.Image:
        """One pass of the model over the image, tile by tile."""
        model = self.upscaler
        scale = model.scale
        source = torch.from_numpy(np.asarray(rgb, dtype=np.float32) / 255.0).permute(2, 0, 1).unsqueeze(0)
        _, _, height, width = source.shape
        out = torch.empty((1, 3, height * scale, width * scale), dtype=torch.float32)
        tile, pad = self.config.tile, self.config.tile_pad
        with self._lock:
            for top in range(0, height, tile):
                for left in range(0, width, tile):
                    bottom, right = min(top + tile, height), min(left + tile, width)
                    # the tile with `pad` pixels of context on each side the image has
                    t0, l0 = max(top - pad, 0), max(left - pad, 0)
                    t1, l1 = min(bottom + pad, height), min(right + pad, width)
                    piece = source[:, :, t0:t1, l0:l1].to(self.device, model.dtype)
                    upscaled = model(piece).float().clamp_(0, 1).cpu()
                    out[:, :, top * scale:bottom * scale, left * scale:right * scale] = upscaled[
                        :, :, (top - t0) * scale:(bottom - t0) * scale, (left - l0) * scale:(right - l0) * scale
                    ]
        array = (out[0].permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
        return Image.fromarray(array, mode="RGB")
