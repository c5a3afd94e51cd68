"""The Publish section under the Generate tab's result: variant picker (colours × sizes), retail
price, Printful's official mockups, and Publish → the product in the store.

This module lays the components out and wires their events; what the events do is
ui.publish_handlers.PublishHandlers.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.components import PublishComponents
from ui.context import StudioContext
from ui.publish_handlers import PublishHandlers

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
# watching a mockup task mostly sleeps between reads, like a job stream
MOCKUP_STREAMS: dict[str, Any] = {"concurrency_limit": 32, "concurrency_id": "printful-mockups"}


def create_publish_panel() -> PublishComponents:
    """The section's components, laid out where it is called (hidden until a design completes)."""
    with gr.Accordion("Publish to the store", open=True, visible=False, elem_id="publish") as panel:
        note = gr.Markdown("", elem_id="publish-note")
        with gr.Row():
            colors = gr.CheckboxGroup([], label="Colours", elem_id="publish-colors")
            sizes = gr.CheckboxGroup([], label="Sizes", elem_id="publish-sizes")
        with gr.Row():
            price = gr.Textbox(label="Retail price", value="", max_lines=1, elem_id="publish-price", scale=1)
            mockups = gr.Button("Official mockups", elem_id="official-mockups", scale=1)
            publish = gr.Button("Publish", variant="primary", elem_id="publish-button", scale=1)
        mockup_status = gr.HTML("", elem_id="official-mockup-status", padding=False)
        mockup_images = gr.Gallery(label="Printful's mockups", columns=3, height="auto", allow_preview=True,
                                   object_fit="contain", visible=False, elem_id="official-mockup-images")
        product = gr.HTML("", elem_id="store-product", padding=False)
    return PublishComponents(panel=panel, note=note, colors=colors, sizes=sizes, price=price, mockups=mockups,
                             mockup_status=mockup_status, mockup_images=mockup_images, publish=publish, product=product)


def wire_publish_panel(ctx: StudioContext, c: PublishComponents, jobs: gr.State, design: gr.Image) -> None:
    """`jobs` is the Generate tab's ShownJobs and `design` its result image: the section follows
    the design on show (a new design, one picked from the grid, one restored from History)."""
    handlers = PublishHandlers(ctx, c)
    design.change(handlers.show_for_job, jobs, [c.panel, *c.form], **PRIVATE)
    c.mockups.click(handlers.official_mockups, [jobs, c.colors, c.sizes], [c.mockup_status, c.mockup_images],
                    **MOCKUP_STREAMS, **PRIVATE)
    c.publish.click(handlers.publish, [jobs, c.colors, c.sizes, c.price], c.product, **PRIVATE)
