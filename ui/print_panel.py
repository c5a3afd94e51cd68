"""The Print panel beside the result: make the design's print file (its checklist, the PNG to
download, the cutout on a light and a dark garment) and its SVG in a chosen number of colours.

Laid out inside the Generate tab's result column (`create_print_panel`), wired to the tab's
shown jobs (`wire_print_panel`); what the events do is ui.print_handlers.PrintHandlers.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from core.jobs.limits import MAX_VECTOR_COLORS, MIN_VECTOR_COLORS
from ui.components import PrintComponents
from ui.context import StudioContext
from ui.print_handlers import PrintHandlers, checklist_html

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
DEFAULT_VECTOR_COLORS = 8


def create_print_panel(ctx: StudioContext) -> PrintComponents:
    with gr.Accordion("Print", open=False, elem_id="print-panel"):
        make_print = gr.Button("Make print file", elem_id="make-print")
        checklist = gr.HTML(checklist_html(None), elem_id="print-checklist", padding=False)
        print_download = gr.DownloadButton("Download print file", visible=False, elem_id="print-download")
        with gr.Row(equal_height=True):
            on_light = gr.Image(label="On a light garment", type="filepath", interactive=False, height=200,
                                elem_id="print-on-light", buttons=[])
            on_dark = gr.Image(label="On a dark garment", type="filepath", interactive=False, height=200,
                               elem_id="print-on-dark", buttons=[])
        with gr.Row(equal_height=True):
            vector_colors = gr.Slider(MIN_VECTOR_COLORS, MAX_VECTOR_COLORS, value=DEFAULT_VECTOR_COLORS, step=1,
                                      label="SVG colours", elem_id="vector-colors",
                                      info="flat colours for stickers, screen print and vinyl")
            make_svg = gr.Button("Make SVG", elem_id="make-svg", scale=0, min_width=120)
        svg_preview = gr.Image(label="SVG", type="filepath", interactive=False, height=240, elem_id="svg-preview",
                               buttons=["fullscreen"], visible=False)
        svg_download = gr.DownloadButton("Download SVG", visible=False, elem_id="svg-download")
    return PrintComponents(make_print=make_print, checklist=checklist, print_download=print_download,
                           on_light=on_light, on_dark=on_dark, vector_colors=vector_colors, make_svg=make_svg,
                           svg_preview=svg_preview, svg_download=svg_download)


def wire_print_panel(ctx: StudioContext, panel: PrintComponents, jobs: gr.State) -> PrintHandlers:
    """The panel's events over `jobs` (ui.session_state.ShownJobs): they act on the design on show."""
    handlers = PrintHandlers(ctx, panel)
    # another design on show: the panel's files were the last one's
    jobs.change(handlers.reset, jobs, panel.outputs, queue=False, show_progress="hidden", **PRIVATE)
    panel.make_print.click(handlers.make_print_file, jobs, panel.print_outputs, **PRIVATE)
    panel.make_svg.click(handlers.make_svg, [jobs, panel.vector_colors], panel.svg_outputs, **PRIVATE)
    return handlers
