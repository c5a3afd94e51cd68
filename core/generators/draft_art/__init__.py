"""The offline draft renderer: a parsed brief drawn as a merch design with Pillow alone.

It is what a designer sees before a GPU worker is configured, so it draws a deliberate
design rather than a placeholder, and follows the brief as the model would: for products
printed without a background, a subject silhouette (a seeded emblem made of shapes) on a
plain background, which the print file's cutout removes; otherwise a background treatment
chosen by the style around the emblem. The subject is lettered only when the negative prompt
does not ask for no text, and a DRAFT mark sits in a corner (on the print file too).
No network, no model, no font required; the same inputs always give the same bytes.
"""

from core.generators.draft_art.render import render_draft

# The renderer's revision, written into its PNGs beside the prompt and seed: bump it when the
# same inputs draw something else.
DRAFT_REVISION = "2"

__all__ = ["DRAFT_REVISION", "render_draft"]
