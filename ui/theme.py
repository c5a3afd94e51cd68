"""The studio's look: a Gradio theme and the CSS for the status card, tiles and style swatches.

Gradio 6 takes theme and css at mount time (`mount_gradio_app(..., theme=, css=)`), not in
gr.Blocks, so app.py passes these along.
"""

from __future__ import annotations

import base64
import json

import gradio as gr

from core.catalog import Catalog
from core.mockups.previews import render_swatch


def studio_theme() -> gr.themes.Base:
    return gr.themes.Soft(primary_hue="pink", secondary_hue="indigo", neutral_hue="stone")


BASE_CSS = """
.tg-status { display: flex; flex-direction: column; gap: 6px; min-height: 44px; }
.tg-row { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; padding: 8px 12px; border-radius: 10px;
          background: var(--block-background-fill); border: 1px solid var(--border-color-primary); }
.tg-badge { font-weight: 700; font-size: 0.8rem; text-transform: uppercase; letter-spacing: .04em; padding: 2px 8px;
            border-radius: 999px; background: #ece8f6; color: #4b3f78; }
.tg-generating .tg-badge, .tg-uploading .tg-badge { background: #e0ecfa; color: #22507e; }
.tg-done .tg-badge { background: #dff3e6; color: #1f6b3c; }
.tg-failed .tg-badge { background: #fbe2e2; color: #8c2525; }
.tg-canceled .tg-badge { background: #ecebe8; color: #59554f; }
.tg-failed .tg-line { color: #8c2525; }
.tg-bar { flex-basis: 100%; height: 6px; border-radius: 3px; background: var(--border-color-primary); overflow: hidden; }
.tg-bar > div { height: 100%; background: var(--color-accent); transition: width .3s; }
.tg-tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 10px; }
.tg-tile { display: flex; flex-direction: column; padding: 12px 14px; border-radius: 12px;
           background: var(--block-background-fill); border: 1px solid var(--border-color-primary); }
.tg-value { font-size: 1.5rem; font-weight: 700; }
.tg-label { font-size: 0.85rem; opacity: .75; }
.tg-note { font-size: 0.85rem; opacity: .8; margin-top: 8px; }
.tg-styles .wrap label span::before { content: ""; display: inline-block; width: 44px; height: 18px;
            margin-right: 8px; vertical-align: -4px; background-size: contain; background-repeat: no-repeat; }
"""


def swatch_css(catalog: Catalog) -> str:
    """One rule per style: its Pillow-rendered swatch in front of its name in the picker."""
    rules = []
    for style in catalog.styles.values():
        data = base64.b64encode(render_swatch(style.palette, 88, 36)).decode()
        # the radio labels carry data-testid="<name>-radio-label"; json.dumps quotes the name for CSS
        selector = f'.tg-styles label[data-testid={json.dumps(style.name + "-radio-label")}] span::before'
        rules.append(f"{selector} {{ background-image: url(data:image/png;base64,{data}); }}")
    return "\n".join(rules)


def studio_css(catalog: Catalog) -> str:
    return BASE_CSS + swatch_css(catalog)
