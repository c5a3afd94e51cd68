"""Print files: the generated design as a print-ready PNG for one product.

  1. Background removal (products with `transparent_background`: garments, bags, stickers).
     A local, explainable method rather than a model: the background colour is the median of
     the image's border pixels; pixels within BACKGROUND_TOLERANCE of it that are connected to
     the border (a flood fill from every border pixel, so enclosed areas of the same colour
     inside the subject stay) become transparent. Pixels near the tolerance get partial alpha,
     and the alpha is feathered inward by FEATHER_PX so edges are soft without a halo. Designs
     without a plain background (less than MIN_PLAIN_BORDER of the border near one colour) are
     left opaque rather than cut apart. The GPU worker's matting model replaces this where
     one is configured (core.printing.processors, `PrintProcessor`).
  2. Fit to the print area's pixel size (print_area_in x dpi): the processor scales the design
     to its size on the print area (Lanczos here, Real-ESRGAN on the worker:
     core.printing.processors). A design made at its product's generation size already has the
     print area's aspect (core.catalog.closest_generation_size), so nothing is padded or
     cropped; a design of another aspect (an older job) is padded (`contain`: transparent, or
     the design's own border colour on opaque products such as the mug wrap) or cropped evenly
     (`cover`), without resampling again.
  3. Preflight (core.printing.preflight): the sRGB profile and DPI set, DTG alpha hardened,
     specks removed, resolution, edge and contrast checked.
  4. PNG with the DPI in its pHYs chunk, the sRGB ICC profile, and text chunks: the generation
     record when given (prompt, seed, model...) and the preflight checklist, so a stored file
     answers its checklist again without a render.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from core.catalog import Product
from core.imaging.png import encode_png
from core.imaging.png_check import load_png
from core.imaging.png_text import add_text_chunk
from core.printing.preflight import PreflightCheck, ScaledFrom, check_file, preflight
from core.printing.processors import LocalPrintProcessor, PrintProcessor

BACKGROUND_TOLERANCE = 48.0  # RGB distance still counted as background
SOFT_EDGE = 24.0  # the last part of the tolerance becomes partial alpha
FEATHER_PX = 1.5  # Gaussian radius of the inward edge feather, at generation size
MIN_PLAIN_BORDER = 0.6  # share of border pixels that must be near the background colour
PNG_COMPRESS_LEVEL = 6
# the text chunks a print file carries besides the generation record
PREFLIGHT_CHUNK = "tenkaigen:preflight"
MADE_BY_CHUNK = "tenkaigen:made-by"
LOCAL_PROCESSOR = LocalPrintProcessor()


@dataclass(frozen=True)
class PrintFile:
    png: bytes
    width: int
    height: int
    dpi: int
    background_removed: bool
    preflight: list[PreflightCheck]
    made_by: str

    @property
    def failed(self) -> bool:
        return any(check.status == "fail" for check in self.preflight)


def _border(pixels: np.ndarray) -> np.ndarray:
    return np.concatenate([pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]])


def background_colour(rgb: np.ndarray) -> np.ndarray:
    return np.median(_border(rgb).reshape(-1, 3), axis=0)


def _spread_along_rows(reached: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Every horizontal run of `allowed` pixels that holds a reached pixel becomes reached."""
    height, width = allowed.shape
    run_starts = allowed & ~np.pad(allowed, ((0, 0), (1, 0)))[:, :width]
    run_ids = np.cumsum(run_starts.ravel()).reshape(height, width)
    touched = np.zeros(int(run_ids[-1, -1]) + 1, dtype=bool)
    touched[run_ids[reached & allowed]] = True
    return allowed & touched[run_ids]


def connected_to_border(allowed: np.ndarray) -> np.ndarray:
    """The `allowed` pixels 4-connected to the image border (a flood fill from every border
    pixel), by alternating row and column run propagation until nothing changes."""
    reached = np.zeros_like(allowed)
    reached[[0, -1], :] = allowed[[0, -1], :]
    reached[:, [0, -1]] = allowed[:, [0, -1]]
    while True:
        grown = _spread_along_rows(reached, allowed)
        grown = _spread_along_rows(grown.T, allowed.T).T
        if np.array_equal(grown, reached):
            return reached
        reached = grown


def remove_background(image: Image.Image) -> Image.Image | None:
    """RGBA with the plain background transparent, or None when there is no plain background."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    distance = np.sqrt(((rgb - background_colour(rgb)) ** 2).sum(axis=2))
    near = distance < BACKGROUND_TOLERANCE
    if _border(near).mean() < MIN_PLAIN_BORDER:
        return None
    background = connected_to_border(near)
    ramp = np.clip((distance - (BACKGROUND_TOLERANCE - SOFT_EDGE)) / SOFT_EDGE, 0.0, 1.0)
    alpha = np.where(background, ramp * 255.0, 255.0).astype(np.uint8)
    hard = Image.fromarray(alpha, mode="L")
    # feather inward only: the edge softens, the background never gains opacity
    feathered = Image.fromarray(
        np.minimum(alpha, np.asarray(hard.filter(ImageFilter.GaussianBlur(FEATHER_PX)))), mode="L"
    )
    result = image.convert("RGBA")
    result.putalpha(feathered)
    return result


def size_on_print_area(design: tuple[int, int], area: tuple[int, int], fit: str) -> tuple[int, int]:
    """The design's size scaled to the print area: inside it (`contain`, as ImageOps.contain) or
    covering it (`cover`); the area itself when the aspects match."""
    (width, height), (area_width, area_height) = design, area
    if width * area_height == height * area_width:
        return area
    if (width / height > area_width / area_height) == (fit == "contain"):
        return area_width, round(height / width * area_width)
    return round(width / height * area_height), area_height


def place_on_print_area(image: Image.Image, area: tuple[int, int], fit: str, pad: tuple[int, ...]) -> Image.Image:
    """The scaled design centred on the print area, padded (`contain`) or cropped (`cover`), not resampled."""
    if image.size == area:
        return image
    if fit == "cover":
        left, top = (image.width - area[0]) // 2, (image.height - area[1]) // 2
        return image.crop((left, top, left + area[0], top + area[1]))
    canvas = Image.new(image.mode, area, pad)
    canvas.paste(image, (round((area[0] - image.width) / 2), round((area[1] - image.height) / 2)))
    return canvas


def render_print_file(png: bytes, product: Product, processor: PrintProcessor = LOCAL_PROCESSOR,
                      job_id: str = "", text: Mapping[str, str] | None = None) -> PrintFile:
    """The print-ready PNG of a generated design for `product`, cut out and scaled by `processor`,
    with its preflight checklist; `text` (the generation record) goes into the PNG's text
    chunks. InvalidRequest when the design is not a whole, readable PNG within the pixel limits
    (core.imaging.png_check)."""
    with load_png(png) as opened:
        design = opened.convert("RGB")
        profile = {key: value for key, value in opened.info.items() if key == "icc_profile"}
    width, height = product.print_size_px
    scaled = size_on_print_area(design.size, (width, height), product.print_fit)
    prepared = processor.prepare(design, cutout=product.transparent_background, size=scaled, job_id=job_id)
    if prepared.background_removed:
        source, pad = prepared.image.convert("RGBA"), (0, 0, 0, 0)
    else:
        source, pad = prepared.image.convert("RGB"), tuple(int(c) for c in background_colour(np.asarray(design)))
    fitted = place_on_print_area(source, (width, height), product.print_fit, pad)
    fitted.info = dict(profile)
    design_dpi = product.dpi * min(design.width / scaled[0], design.height / scaled[1])
    method = "Real-ESRGAN ×4 + Lanczos" if "Real-ESRGAN" in prepared.made_by else "Lanczos"
    fixed, checks = preflight(fitted, product, ScaledFrom(design.width, design.height, design_dpi, method))
    encoded = encode_png(fixed, compress_level=PNG_COMPRESS_LEVEL, dpi=product.dpi,
                         icc_profile=fixed.info["icc_profile"], text={**(text or {}), MADE_BY_CHUNK: prepared.made_by})
    # the file check needs the encoded size; the checklist then joins the file as a trailing
    # text chunk (the pixels are not encoded again)
    checks.append(check_file(encoded))
    encoded = add_text_chunk(encoded, PREFLIGHT_CHUNK, checklist_json(checks))
    return PrintFile(encoded, fixed.width, fixed.height, product.dpi, background_removed=prepared.background_removed,
                     preflight=checks, made_by=prepared.made_by)


def checklist_json(checks: list[PreflightCheck]) -> str:
    return json.dumps([check.as_dict() for check in checks], separators=(",", ":"))


def checklist_from_json(value: str) -> list[PreflightCheck]:
    """The checklist stored in a print file; ValueError when it is not one."""
    items = json.loads(value)
    if not isinstance(items, list):
        raise ValueError("the preflight chunk is not a list")
    checks = [PreflightCheck(check=str(i["check"]), status=i["status"], detail=str(i["detail"])) for i in items]
    if any(check.status not in ("pass", "fixed", "fail") for check in checks):
        raise ValueError("the preflight chunk holds an unknown status")
    return checks
