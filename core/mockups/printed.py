"""What a mockup shows of the design: what the print file prints, at preview size.

Garments, bags and stickers print the cut-out design (core.printing.printfiles.remove_background,
the same cutout as their print file), so their mockups show the product's own colour round the
subject rather than the design's background as a printed rectangle. Every product shows the
design laid into its print area as the print file lays it: `contain` (padded: transparent round
a cutout, the design's border colour on an opaque print) or `cover` (cropped evenly).

The cutout is made on the design already reduced to the preview's size: a few milliseconds,
where the generation size would take half a second.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.catalog import Product
from core.mockups.compositing import cover_fit
from core.printing.printfiles import background_colour, place_on_print_area, remove_background

# a cutout that keeps less than this share of the design took the subject away with the
# background (a design of one flat colour): the design is shown whole instead
MIN_SUBJECT_SHARE = 0.005


def printed_design(design: Image.Image, product: Product, size: tuple[int, int]) -> Image.Image:
    """The design as the product prints it, `size` pixels (the print area's aspect); RGBA where
    it has a cutout or was transparent already, else RGB."""
    if product.print_fit == "cover":
        laid = cover_fit(design, size)  # one resample, the crop included
    else:
        scale = min(size[0] / design.width, size[1] / design.height)
        laid = design.resize((max(1, round(design.width * scale)), max(1, round(design.height * scale))),
                             Image.Resampling.BICUBIC, reducing_gap=2.0)
    if laid.mode != "RGBA" and product.transparent_background:
        cutout = remove_background(laid)
        if cutout is not None and _keeps_a_subject(cutout):
            laid = cutout
    if laid.size == size:
        return laid
    pad = (0, 0, 0, 0) if laid.mode == "RGBA" else tuple(int(c) for c in background_colour(np.asarray(laid)))
    return place_on_print_area(laid, size, "contain", pad)  # already inside: only padded


def _keeps_a_subject(cutout: Image.Image) -> bool:
    return (np.asarray(cutout.getchannel("A")) >= 128).mean() >= MIN_SUBJECT_SHARE
