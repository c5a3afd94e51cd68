"""Preflight: the checks behind print-shop holds, run on a print file before it is handed out.

Each check passes, fixes the image and says what it did, or fails and says what the designer
can do. A failed check does not stop the file: the designer decides. The checks follow the
causes of holds that Printful's and Printify's file guides name:

  format      PNG in RGB or RGBA, 8 bits per channel (other modes are converted)
  colour      an sRGB (IEC 61966-2.1) ICC profile; another profile is converted to sRGB
  dpi         the DPI the PNG states (pHYs) is the product's
  resolution  the effective DPI at the print size at least the product's `min_dpi`; a smaller
              image is upscaled (Lanczos) to the product's print size
  dtg-alpha   for direct-to-garment products, alpha only 0 or 255: semi-transparent pixels
              print speckled over the white underbase
  tiny        no design element under MIN_ELEMENT_PX: islands that small in the alpha vanish
              or flake in print, and are removed
  edge        the design inside the product's safe margin (the sticker's cut line)
  contrast    the design stands out from the product colour (light on light, dark on dark fail)

`check_file` adds the file's own limit (size in bytes) once the PNG is encoded.
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass
from functools import partial
from typing import Literal

import numpy as np
from PIL import Image, ImageCms

from core.catalog import Product
from core.imaging.colour import hex_rgb
from core.imaging.contrast import BLEND_CONTRAST, contrast_ratio, relative_luminance, visible_share
from core.imaging.png import srgb_profile

# Printful's upload limit for a print file ("the maximum file size of an image you can upload
# on Printful's Design Maker is 200 MB", its print-file guide). Printify's is not confirmed.
MAX_FILE_BYTES = 200 * 1000 * 1000
MIN_ELEMENT_PX = 10  # an element fitting in a 10x10 px box is too small to print
ALPHA_THRESHOLD = 128  # hardened alpha: at or above prints, below does not
# Contrast of the design against the product colour (WCAG contrast ratio, 1 = identical). A
# pixel under core.imaging.contrast.BLEND_CONTRAST blends into the fabric; the check fails
# when less than MIN_VISIBLE_SHARE of the design (by alpha) stands out.
MIN_VISIBLE_SHARE = 0.35
MAX_CONTRAST_SAMPLES = 60_000  # pixels sampled for the contrast check (a stride, not random)

@dataclass(frozen=True)
class PreflightCheck:
    check: str
    status: Literal["pass", "fixed", "fail"]
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def preflight(image: Image.Image, product: Product, scaled_from: ScaledFrom | None = None
              ) -> tuple[Image.Image, list[PreflightCheck]]:
    """A copy of the image with every automatic fix applied, and the checklist (in the order
    run). The caller's image is left as it was; the steps fix the copy in place.

    `scaled_from` says the image was already scaled to the print size (by a print processor:
    Lanczos here, Real-ESRGAN on the GPU worker): the resolution check then judges the design's
    own pixels and says how they were scaled."""
    image = image.copy()
    checks: list[PreflightCheck] = []
    resolution = partial(_resolution, scaled_from=scaled_from)
    for step in (_format, _colour_profile, _dpi, resolution, _dtg_alpha, _tiny_elements, _edge, _contrast):
        image, check = step(image, product)
        checks.append(check)
    return image, checks


def check_file(png: bytes) -> PreflightCheck:
    """The encoded file within the shop's size limit."""
    mb, limit_mb = len(png) / 1e6, MAX_FILE_BYTES / 1e6
    if len(png) <= MAX_FILE_BYTES:
        return PreflightCheck("file", "pass", f"PNG, {mb:.1f} MB (the limit is {limit_mb:.0f} MB)")
    return PreflightCheck("file", "fail", f"PNG, {mb:.1f} MB: over the {limit_mb:.0f} MB upload limit; "
                                          "a design with large flat areas compresses far smaller")


def has_alpha(image: Image.Image) -> bool:
    return image.mode == "RGBA"


# --- the checks, in order --------------------------------------------------------------------
def _format(image: Image.Image, product: Product) -> tuple[Image.Image, PreflightCheck]:
    if image.mode in ("RGB", "RGBA"):
        return image, PreflightCheck("format", "pass", f"PNG, 8-bit {image.mode}")
    target = "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
    converted = _keep_info(image.convert(target), image)
    return converted, PreflightCheck("format", "fixed", f"converted {image.mode} to 8-bit {target}")


def _colour_profile(image: Image.Image, product: Product) -> tuple[Image.Image, PreflightCheck]:
    embedded = image.info.get("icc_profile")
    if embedded:
        name = _profile_name(embedded)
        if "srgb" in name.lower():
            return image, PreflightCheck("colour", "pass", f"sRGB ICC profile embedded ({name})")
        converted = _to_srgb(image, embedded)
        if converted is not None:
            return converted, PreflightCheck(
                "colour", "fixed", f"converted from the embedded {name or 'unnamed'} profile to sRGB (IEC 61966-2.1)")
    image.info["icc_profile"] = srgb_profile()
    return image, PreflightCheck("colour", "fixed", "embedded an sRGB (IEC 61966-2.1) ICC profile "
                                                    "(the design was made in sRGB)")


@dataclass(frozen=True)
class ScaledFrom:
    """The design an image was scaled from: its size and effective DPI there, and by what."""

    width: int
    height: int
    dpi: float
    method: str  # "Lanczos", "Real-ESRGAN ×4 + Lanczos", ...


def _resolution(image: Image.Image, product: Product,
                scaled_from: ScaledFrom | None = None) -> tuple[Image.Image, PreflightCheck]:
    w_in, h_in = product.print_area_in
    target = product.print_size_px
    area = f"{w_in:g}x{h_in:g} in"
    if scaled_from is None:
        source, effective, method = image.size, min(image.width / w_in, image.height / h_in), "Lanczos"
    else:
        source, effective, method = (scaled_from.width, scaled_from.height), scaled_from.dpi, scaled_from.method
    if image.size == target and source == target and effective >= product.min_dpi:
        return image, PreflightCheck("resolution", "pass", f"{image.width}x{image.height} px: "
                                                           f"{effective:.0f} DPI at {area} (at least {product.min_dpi})")
    resized = image if image.size == target else _keep_info(image.resize(target, Image.Resampling.LANCZOS), image)
    verb = "upscaled" if target[0] > source[0] else "resized"
    detail = (f"{source[0]}x{source[1]} px is {effective:.0f} DPI at {area}; {verb} ({method}) to "
              f"{target[0]}x{target[1]} px = {product.dpi} DPI")
    if effective < product.min_dpi:
        detail += (f". An upscale adds no detail: fine lines and small text look softer than at a native "
                   f"{product.min_dpi} DPI")
    return resized, PreflightCheck("resolution", "fixed", detail)


def _dtg_alpha(image: Image.Image, product: Product) -> tuple[Image.Image, PreflightCheck]:
    if not product.dtg:
        return image, PreflightCheck("dtg-alpha", "pass", "not printed direct-to-garment: soft edges allowed")
    if not has_alpha(image):
        return image, PreflightCheck("dtg-alpha", "pass", "opaque: no semi-transparent pixels")
    alpha = image.getchannel("A")
    partial = sum(alpha.histogram()[1:255])
    if not partial:
        return image, PreflightCheck("dtg-alpha", "pass", "every pixel fully transparent or fully opaque")
    image.putalpha(alpha.point([0] * ALPHA_THRESHOLD + [255] * (256 - ALPHA_THRESHOLD)))
    return image, PreflightCheck(
        "dtg-alpha", "fixed",
        f"{partial} semi-transparent pixels set to fully opaque or transparent (at alpha {ALPHA_THRESHOLD}): "
        "they would print speckled over the white underbase")


def _tiny_elements(image: Image.Image, product: Product) -> tuple[Image.Image, PreflightCheck]:
    if not has_alpha(image):
        return image, PreflightCheck("tiny", "pass", "opaque: no separate elements")
    alpha = np.asarray(image.getchannel("A"))
    count, islands = tiny_islands(alpha > 0, MIN_ELEMENT_PX)
    if not count:
        return image, PreflightCheck("tiny", "pass", f"no element under {MIN_ELEMENT_PX} px")
    image.putalpha(Image.fromarray(np.where(islands, 0, alpha).astype(np.uint8), mode="L"))
    return image, PreflightCheck(
        "tiny", "fixed", f"removed {count} element(s) under {MIN_ELEMENT_PX} px "
                         f"({int(np.count_nonzero(islands))} px in all): "
                         "specks that small flake off or vanish in print")


def _edge(image: Image.Image, product: Product) -> tuple[Image.Image, PreflightCheck]:
    margin_px = round(product.safe_margin_in * product.dpi)
    if not margin_px:
        return image, PreflightCheck("edge", "pass", "no safe margin for this product")
    if not has_alpha(image):
        return image, PreflightCheck(
            "edge", "fail", f"the design fills the print area to its edge; keep it {product.safe_margin_in:g} in "
                            "inside the edge (a plain background that is cut away, or space around the subject)")
    alpha = np.asarray(image.getchannel("A"))
    inner = np.zeros_like(alpha, dtype=bool)
    inner[margin_px:-margin_px, margin_px:-margin_px] = True
    outside = int(np.count_nonzero((alpha > 0) & ~inner))
    if not outside:
        return image, PreflightCheck("edge", "pass", f"the design stays {product.safe_margin_in:g} in inside the edge")
    return image, PreflightCheck(
        "edge", "fail", f"{outside} px of the design lie within {product.safe_margin_in:g} in of the edge, "
                        "where the cut may trim them; ask for the subject 'centered, with space around it'")


def _contrast(image: Image.Image, product: Product) -> tuple[Image.Image, PreflightCheck]:
    base = hex_rgb(product.base_color)
    if not has_alpha(image):
        return image, PreflightCheck("contrast", "pass", "the design covers the print area: the product colour does not show")
    rgba = np.asarray(image)
    stride = max(1, math.isqrt(rgba.shape[0] * rgba.shape[1] // MAX_CONTRAST_SAMPLES))
    sample = rgba[::stride, ::stride].reshape(-1, 4).astype(np.float64)
    weight = sample[:, 3] / 255.0
    if weight.sum() == 0:
        return image, PreflightCheck("contrast", "fail", "the design is fully transparent: nothing would print")
    visible = visible_share(sample[:, :3], weight, base)
    base_l = float(relative_luminance(np.array(base))[()])
    mean_l = float((weight * relative_luminance(sample[:, :3])).sum() / weight.sum())
    summary = (f"{visible:.0%} of the design stands out from the {product.base_color} product by "
               f"{BLEND_CONTRAST}:1 or more (mean contrast {float(contrast_ratio(mean_l, base_l)):.1f}:1)")
    if visible >= MIN_VISIBLE_SHARE:
        return image, PreflightCheck("contrast", "pass", summary)
    tone, other = ("light", "dark") if base_l > 0.4 else ("dark", "light")
    return image, PreflightCheck(
        "contrast", "fail", f"{summary}: a {tone} design on a {tone} product fades into it. Use {other} "
                            f"colours or an outline in a {other} colour, or choose a {other} product colour")


def _dpi(image: Image.Image, product: Product) -> tuple[Image.Image, PreflightCheck]:
    stated = image.info.get("dpi")
    if stated and round(stated[0]) == round(stated[1]) == product.dpi:
        return image, PreflightCheck("dpi", "pass", f"{product.dpi} DPI stated in the PNG (pHYs)")
    image.info["dpi"] = (product.dpi, product.dpi)
    was = f"{stated[0]:.0f} DPI" if stated else "no DPI"
    return image, PreflightCheck("dpi", "fixed", f"the PNG stated {was}; wrote {product.dpi} DPI (pHYs)")


# --- measures the checks share -----------------------------------------------------------------
def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every horizontal run of True in `mask`: (row, start, end) arrays, end exclusive."""
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    return rows, starts, ends


def _component_labels(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """A label per run: runs that touch (4-connected, in adjacent rows) share one."""
    labels = np.arange(len(rows))
    if not len(rows):
        return labels
    # runs come row by row, left to right, so these keys are sorted; the runs of row r+1 that
    # overlap run i (start < end_i and end > start_i) are one contiguous range of them
    stride = width + 1
    start_keys, end_keys = rows * stride + starts, rows * stride + ends
    below = (rows + 1) * stride
    lo = np.searchsorted(end_keys, below + starts, side="right")
    hi = np.searchsorted(start_keys, below + ends, side="left")
    counts = np.maximum(hi - lo, 0)
    if not counts.any():
        return labels
    a = np.repeat(np.arange(len(rows)), counts)
    b = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    while True:
        low = np.minimum(labels[a], labels[b])
        updated = labels.copy()
        np.minimum.at(updated, a, low)
        np.minimum.at(updated, b, low)
        updated = updated[updated]  # pointer jumping: follow each label to its own label
        if np.array_equal(updated, labels):
            return labels
        labels = updated


def tiny_islands(mask: np.ndarray, min_px: int) -> tuple[int, np.ndarray]:
    """(how many, their pixels): the 4-connected islands of `mask` that fit in a min_px box."""
    rows, starts, ends = _runs(mask)
    labels = _component_labels(rows, starts, ends, mask.shape[1])
    count = len(rows)
    x0, x1 = np.full(count, mask.shape[1]), np.full(count, -1)
    y0, y1 = np.full(count, mask.shape[0]), np.full(count, -1)
    np.minimum.at(x0, labels, starts)
    np.maximum.at(x1, labels, ends)
    np.minimum.at(y0, labels, rows)
    np.maximum.at(y1, labels, rows + 1)
    tiny_label = (x1 >= 0) & (x1 - x0 < min_px) & (y1 - y0 < min_px)
    tiny = tiny_label[labels]
    lengths = (ends - starts)[tiny]
    first = (rows * mask.shape[1] + starts)[tiny]
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    pixels = np.zeros(mask.size, dtype=bool)
    pixels[np.repeat(first, lengths) + offsets] = True
    pixels = pixels.reshape(mask.shape)
    return int(np.count_nonzero(tiny_label)), pixels


def _keep_info(new: Image.Image, old: Image.Image) -> Image.Image:
    new.info = dict(old.info)
    return new


def _profile_name(icc: bytes) -> str:
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    except (OSError, ImageCms.PyCMSError):
        return ""


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except (OSError, ImageCms.PyCMSError):
        return None
    assert converted is not None
    converted.info = {**image.info, "icc_profile": srgb_profile()}
    return converted
