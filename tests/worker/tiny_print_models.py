"""Tiny print models with random (or chosen) weights, saved the way the real ones ship; nothing downloaded.

- a matting model folder (tiny_matting.py's code beside its weights, as BiRefNet's folder is);
- a Real-ESRGAN state dict (RRDBNet in basicsr's key layout, under `params_ema` as in
  RealESRGAN_x4plus.pth) with one block and 8 features, saved as .pth: spandrel tells the
  architecture and the scale from the keys, as it does for the real 67 MB file. (spandrel reads
  the feature count and the blocks from the shapes but assumes the growth channels are 32, as
  in every released ESRGAN: the tiny one keeps 32.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch

from tests.worker.tiny_matting import TinyMatting, TinyMattingConfig

MattingKind = Literal["random", "ink", "empty"]


def save_tiny_matting(folder: Path, kind: MattingKind = "random") -> Path:
    """`random`: random weights; `ink`: opaque where the image is dark or coloured, transparent where
    it is near white (a model that does its job on the tests' designs); `empty`: transparent everywhere."""
    TinyMattingConfig.register_for_auto_class()
    TinyMatting.register_for_auto_class("AutoModelForImageSegmentation")
    torch.manual_seed(0)
    model = TinyMatting(TinyMattingConfig(hidden=4))
    if kind != "random":
        with torch.no_grad():
            model.features.weight.zero_()
            model.features.bias.zero_()
            model.mask.weight.zero_()
            if kind == "ink":
                # feature 0 = tanh(-(sum of the normalised channels) / 2 + 2): ~+1 on ink, ~-1 on white
                model.features.weight[0, :, 1, 1] = -0.5
                model.features.bias[0] = 2.0
                model.mask.weight[0, 0] = 12.0
            model.mask.bias.fill_(-12.0 if kind == "empty" else 0.0)
    model.save_pretrained(folder)
    return folder


def tiny_rrdbnet_state_dict(scale: int = 4, num_feat: int = 8, num_grow_ch: int = 32, num_block: int = 1,
                            seed: int = 0) -> dict[str, torch.Tensor]:
    """Real-ESRGAN's RRDBNet keys (basicsr): conv_first, body.N.rdbK.convJ, conv_body, conv_up1/2, conv_hr, conv_last.

    Scale 2 models (RealESRGAN_x2plus) take the image pixel-unshuffled: 12 input channels.
    """
    generator = torch.Generator().manual_seed(seed)

    def conv(out_ch: int, in_ch: int, kernel: int = 3) -> dict[str, torch.Tensor]:
        return {"weight": torch.randn(out_ch, in_ch, kernel, kernel, generator=generator) * 0.05,
                "bias": torch.zeros(out_ch)}

    layers: dict[str, dict[str, torch.Tensor]] = {"conv_first": conv(num_feat, 3 * (4 if scale == 2 else 1))}
    for block in range(num_block):
        for rdb in (1, 2, 3):
            for index in range(1, 6):
                out_ch = num_feat if index == 5 else num_grow_ch
                layers[f"body.{block}.rdb{rdb}.conv{index}"] = conv(out_ch, num_feat + (index - 1) * num_grow_ch)
    layers["conv_body"] = conv(num_feat, num_feat)
    layers["conv_up1"] = conv(num_feat, num_feat)
    layers["conv_up2"] = conv(num_feat, num_feat)
    layers["conv_hr"] = conv(num_feat, num_feat)
    layers["conv_last"] = conv(3, num_feat)
    return {f"{name}.{kind}": tensor for name, params in layers.items() for kind, tensor in params.items()}


def save_tiny_upscaler(path: Path, scale: int = 4, **sizes: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"params_ema": tiny_rrdbnet_state_dict(scale, **sizes)}, path)
    return path


def design_png(size: tuple[int, int] = (48, 64), background: tuple[int, int, int] = (250, 248, 245),
               ink: tuple[int, int, int] = (200, 30, 60)) -> bytes:
    """A red disc on a near-white background: what a garment design looks like, small."""
    import io

    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("RGB", size, background)
    r = min(width, height) // 3
    ImageDraw.Draw(image).ellipse((width // 2 - r, height // 2 - r, width // 2 + r, height // 2 + r), fill=ink)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def save_print_models(folder: Path) -> Path:
    """Every tiny print model the tests use, under `folder`: matting/{random,ink,empty}, upscaler_x4.pth, upscaler_x2.pth."""
    for kind in ("random", "ink", "empty"):
        save_tiny_matting(folder / "matting" / kind, kind)  # type: ignore[arg-type]
    save_tiny_upscaler(folder / "upscaler_x4.pth", scale=4)
    save_tiny_upscaler(folder / "upscaler_x2.pth", scale=2)
    return folder


def tiny_config(folder: Path, matting: MattingKind = "random", scale: int = 4, **changes: object):  # noqa: ANN201
    """The worker's PostprocessConfig for the tiny models (a 64² matting input instead of 1024²)."""
    from dataclasses import replace

    from modal_app.postprocess import PostprocessConfig

    config = PostprocessConfig(segmenter=str(folder / "matting" / matting), upscaler=str(folder / f"upscaler_x{scale}.pth"),
                               segmenter_label="tiny matting", upscaler_label="tiny ESRGAN", segment_side=64)
    return replace(config, **changes)
