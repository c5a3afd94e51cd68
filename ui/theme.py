"""The studio's look and keys: a Gradio theme, the CSS for the status card, tiles, style
swatches, focus rings and the compact pickers, and the page script for the keyboard.

Gradio 6 takes theme, css and head at mount time (`mount_gradio_app(..., theme=, css=, head=)`),
not in gr.Blocks, so ui.mount passes these along.
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
.tg-gpu-starting .tg-badge, .tg-gpu-queued .tg-badge { background: #fdf0d9; color: #7a4d0b; }
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
.tg-styles .wrap label span::before { content: ""; display: inline-block; width: 32px; height: 13px;
            margin-right: 6px; vertical-align: -2px; background-size: contain; background-repeat: no-repeat; }
/* the pickers as compact chips, so idea, style, product and Generate fit the first screen */
.tg-choices { --checkbox-label-padding: 3px 9px; --checkbox-label-gap: 6px; }
.tg-choices .wrap { gap: 6px !important; }
.tg-choices .wrap label { font-size: 0.88rem; }
#idea-note { margin-top: -10px; min-height: 0 !important; }
#idea-note > div, #idea-note .prose { min-height: 0 !important; padding: 0 !important; }
.tg-idea-note { display: flex; gap: 12px; align-items: baseline; justify-content: flex-end; }
.tg-count { font-size: 0.8rem; opacity: .7; white-space: nowrap; }
.tg-count.tg-over { color: #8c2525; opacity: 1; font-weight: 700; }
.tg-field-error { color: #8c2525; font-size: 0.88rem; font-weight: 600; flex: 1 1 auto; }
.tg-hint p { font-size: 0.8rem; opacity: .7; margin: -4px 0 0; }
#product-info p { font-size: 0.85rem; margin: 0; }
/* a visible focus ring for the keyboard (the theme's own is faint or absent on buttons) */
button:focus-visible, [role="tab"]:focus-visible, a:focus-visible, .tg-choices label:has(input:focus-visible) {
    outline: 3px solid #4b3f78 !important; outline-offset: 2px; }
#batch .thumbnail-item { min-width: 250px; }
#batch .grid-wrap { height: auto !important; max-height: none !important; overflow: visible !important; }
#history-gallery .thumbnail-item:hover .caption-label, #history-gallery .thumbnail-item.selected .caption-label {
            white-space: normal; max-width: calc(100% - 2 * var(--block-label-margin));
            max-height: calc(100% - 2 * var(--block-label-margin)); overflow-y: auto; }
.tg-history-caption { font-weight: 600; overflow-wrap: anywhere; }
.tg-history-buttons { align-self: center; flex-wrap: wrap; gap: 8px; }
"""

# The page's keys. Gradio gives each radio input its own name, so the browser would stop on
# every option; a roving tabindex makes each picker one stop (the checked option), arrows move
# within it. Ctrl/Cmd+Enter in the idea box presses Generate (once the idea enables it).
# Starting a job brings the status and result into view (on a phone they are below the form).
KEYS_JS = """
(() => {
  const PICKERS = "#style, #product";
  const radiosOf = (group) => [...group.querySelectorAll('input[type="radio"]')];
  function rove() {
    document.querySelectorAll(PICKERS).forEach((group) => {
      const radios = radiosOf(group);
      const stop = radios.find((r) => r.checked) || radios[0];
      radios.forEach((r) => { const index = r === stop ? 0 : -1; if (r.tabIndex !== index) r.tabIndex = index; });
    });
  }
  function pressWhenEnabled(id, triesLeft) {
    const button = document.getElementById(id);
    if (button && !button.disabled) { button.click(); return; }
    if (triesLeft > 0) setTimeout(() => pressWhenEnabled(id, triesLeft - 1), 100);
  }
  function showResults() {
    const pane = document.getElementById("result-pane");
    if (!pane) return;
    const top = pane.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight * 0.6) pane.scrollIntoView({ block: "start", behavior: "smooth" });
  }
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.closest("#prompt")) {
      event.preventDefault();
      event.stopPropagation();
      pressWhenEnabled("generate", 30);
      return;
    }
    const group = target.matches('input[type="radio"]') && target.closest(PICKERS);
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (!group || !step) return;
    event.preventDefault();
    const radios = radiosOf(group);
    const next = radios[(radios.indexOf(target) + step + radios.length) % radios.length];
    next.click();
    next.focus();
    rove();
  }, true);
  document.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest("#generate, #variation, #retry")) showResults();
  }, true);
  new MutationObserver(rove).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["aria-checked"] });
})();
"""


def studio_head() -> str:
    return f"<script>{KEYS_JS}</script>"


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
