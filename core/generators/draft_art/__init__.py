"""The offline draft renderer: a parsed brief drawn as a merch design with Pillow alone.

It is what a designer sees before a GPU worker is configured, so it draws a deliberate
design rather than a placeholder: a background treatment chosen by the style, a seeded
emblem made of shapes, the subject as lettering, and a small DRAFT mark in a corner.
No network, no model, no font required; the same inputs always give the same bytes.
"""

from core.generators.draft_art.render import render_draft

__all__ = ["render_draft"]
