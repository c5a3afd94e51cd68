"""Luminance contrast as print checks and renderers measure it: sRGB relative luminance and
the WCAG contrast ratio (1:1 for identical luminance, 21:1 for black on white)."""

from __future__ import annotations

import numpy as np

from core.imaging.colour import RGB

# A pixel whose contrast with the surface under it is below this blends into it.
BLEND_CONTRAST = 1.5


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """The relative luminance (0 black .. 1 white) of an array of sRGB rows (..., 3), 0..255,
    linearised as sRGB (IEC 61966-2.1) defines."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def contrast_ratio(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """The contrast ratio of relative luminances `a` and `b` (elementwise)."""
    return (np.maximum(a, b) + 0.05) / (np.minimum(a, b) + 0.05)


def visible_share(rgb: np.ndarray, weight: np.ndarray, surface: RGB) -> float:
    """The share (by `weight`, e.g. alpha) of the pixels `rgb` (N, 3) that stand out from
    `surface` by at least BLEND_CONTRAST; 0 when the weights sum to nothing."""
    total = float(weight.sum())
    if total <= 0:
        return 0.0
    surface_l = float(relative_luminance(np.array(surface))[()])
    ratio = contrast_ratio(relative_luminance(rgb), surface_l)
    return float((weight * (ratio >= BLEND_CONTRAST)).sum() / total)
