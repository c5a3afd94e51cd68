"""Who cuts a design out and scales it to print size: this process (flood fill, Lanczos) or the GPU worker.

`render_print_file` asks a `PrintProcessor` for the design at its size on the print area,
background removed when the product needs it, then places it on the print area (pad or crop,
no resampling) and encodes it. `LocalPrintProcessor` is the explainable local method in
`printfiles.py`; `RemotePostprocessor` (`remote.py`) asks the GPU worker's matting and
super-resolution models, checks the cutout it gets back, and falls back to the local one.
Each answer says which made it (`made_by`), and the print file carries that along.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PIL import Image

# What a cutout must look like to be used: a subject, not nothing and not everything, with a
# mostly decided edge. A mask outside these is a model that failed (empty on an unusual design,
# or noise), and the local flood fill is the better answer.
MIN_OPAQUE_SHARE = 0.01
MAX_OPAQUE_SHARE = 0.99
MAX_SOFT_SHARE = 0.25  # pixels neither clearly kept nor clearly removed
SOFT_ALPHA = (16, 240)

LOCAL_MADE_BY = "local"


@dataclass(frozen=True)
class PreparedDesign:
    """The design at its size on the print area: RGBA when its background was removed."""

    image: Image.Image
    background_removed: bool
    made_by: str


class PrintProcessor(Protocol):
    """Cut out (when asked) and resize a design to `size` exactly."""

    label: str

    def prepare(self, design: Image.Image, *, cutout: bool, size: tuple[int, int], job_id: str = "") -> PreparedDesign:
        """`design` is RGB at generation size; the answer is `size` exactly."""
        ...

    def close(self) -> None: ...


class LocalPrintProcessor:
    """The flood-fill cutout and a Lanczos resize, in this process (core.printing.printfiles)."""

    label = "local: flood-fill cutout, Lanczos upscale"

    def prepare(self, design: Image.Image, *, cutout: bool, size: tuple[int, int], job_id: str = "") -> PreparedDesign:
        from core.printing.printfiles import remove_background  # printfiles imports this module

        removed = remove_background(design) if cutout else None
        source = removed if removed is not None else design
        resized = source.resize(size, Image.Resampling.LANCZOS)
        how = "Lanczos upscale" if size[0] > design.width or size[1] > design.height else "Lanczos resize"
        made_by = "local: " + ("flood-fill cutout, " if removed is not None else "") + how
        return PreparedDesign(resized, background_removed=removed is not None, made_by=made_by)

    def close(self) -> None:
        pass


def cutout_problem(image: Image.Image) -> str | None:
    """Why a returned cutout cannot be used (empty, full, or mostly half-transparent), or None."""
    if image.mode != "RGBA":
        return f"the cutout has no alpha channel (mode {image.mode})"
    alpha = np.asarray(image.getchannel("A"))
    opaque = float((alpha >= 128).mean())
    if opaque < MIN_OPAQUE_SHARE:
        return f"the cutout is empty: {opaque:.1%} of the pixels are opaque"
    if opaque > MAX_OPAQUE_SHARE:
        return f"the cutout removed nothing: {opaque:.1%} of the pixels are opaque"
    soft = float(((alpha > SOFT_ALPHA[0]) & (alpha < SOFT_ALPHA[1])).mean())
    if soft > MAX_SOFT_SHARE:
        return f"the cutout has no clear edge: {soft:.1%} of the pixels are half-transparent"
    return None
