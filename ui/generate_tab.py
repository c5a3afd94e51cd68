"""The Generate tab: idea, style, product and Generate on the first screen, then examples,
advanced settings and the editable brief; beside them the result streaming in place with its
product mockup, and a grid to compare a batch and its variations.

This module lays the components out and wires their events; what the events do is
ui.generate_handlers.GenerateHandlers.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from core.jobs.limits import MAX_BATCH, MAX_SEED, MAX_STEPS
from ui.components import GenerateComponents
from ui.context import StudioContext
from ui.generate_handlers import GenerateHandlers, idea_note_html, product_summary
from ui.job_status import status_html
from ui.print_panel import create_print_panel, wire_print_panel
from ui.publish_panel import create_publish_panel, wire_publish_panel

# Generation streams mostly sleep between status reads, so many can run at once; this
# bounds them per app (20 jobs in flight across sessions must not queue behind each other).
STREAM_CONCURRENCY = 64
STREAMS: dict[str, Any] = {"concurrency_limit": STREAM_CONCURRENCY, "concurrency_id": "job-stream"}
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
# client-side, at once: once the idea, style, product or negative prompt is edited, the brief
# no longer matches what it was parsed from. Generate checks the same on the server (a paste
# or a restore can get past a page script).
CLEAR_BRIEF_JS = "() => ['', '', '', '', '', '']"

EXAMPLES: list[tuple[str, str, str, str]] = [
    ("a cyberpunk samurai with neon lights", "cyberpunk-neon", "t-shirt", "Cyberpunk samurai · neon · T-shirt"),
    ("a whale swimming through clouds at dawn, pastel colors", "watercolor", "poster", "Whale at dawn · watercolor · poster"),
    ("a cute corgi astronaut floating in space", "anime", "sticker", "Corgi astronaut · anime · sticker"),
    ("a great wave with mount fuji and a red sun", "ukiyo-e", "tote-bag", "Great wave · ukiyo-e · tote"),
    ("a cat sleeping on the crescent moon", "line-art", "mug", "Moon cat · line art · mug"),
    ("a dragon guarding a castle at sunset", "pixel-art", "phone-case", "Castle dragon · pixel art · phone case"),
]


# --- building the tab ------------------------------------------------------------------------
def create_generate_tab(ctx: StudioContext) -> GenerateComponents:
    catalog = ctx.service.catalog
    first_product = next(iter(catalog.products.values()))
    # made before the layout (render=False) so the examples under the form can fill them
    style = gr.Radio([(s.name, s.id) for s in catalog.styles.values()], value=next(iter(catalog.styles)),
                     label="Style", elem_id="style", elem_classes=["tg-styles", "tg-choices"], render=False)
    product = gr.Radio([(p.name, p.id) for p in catalog.products.values()], value=first_product.id,
                       label="Product", elem_id="product", elem_classes=["tg-choices"], render=False)
    subject = gr.Textbox(label="Subject", value="", elem_id="brief-subject", render=False)
    colors = gr.Textbox(label="Colours", value="", placeholder="comma separated", elem_id="brief-colors", render=False)
    mood = gr.Textbox(label="Mood", value="", elem_id="brief-mood", render=False)
    composition = gr.Textbox(label="Composition", value="", elem_id="brief-composition", render=False)
    final_prompt = gr.Textbox(label="Final prompt", value="", lines=3, elem_id="brief-prompt", render=False)
    final_negative = gr.Textbox(label="Final negative prompt", value="", lines=2, elem_id="brief-negative", render=False)
    with gr.Row(equal_height=False, elem_id="generate-layout"):
        with gr.Column(scale=5, min_width=360, elem_id="form-pane"):
            prompt = gr.Textbox(label="Your idea", placeholder="a cyberpunk samurai with neon lights", lines=3,
                                max_lines=8, elem_id="prompt")
            idea_note = gr.HTML(idea_note_html("", ctx.max_prompt_chars), elem_id="idea-note", padding=False)
            style.render()
            product.render()
            product_info = gr.Markdown(product_summary(first_product), elem_id="product-info")
            with gr.Row():
                parse = gr.Button("Parse", elem_id="parse", min_width=80)
                generate = gr.Button("Generate", variant="primary", elem_id="generate", min_width=80, scale=2,
                                     interactive=False)
                cancel = gr.Button("Cancel", variant="stop", elem_id="cancel", min_width=80)
            gr.Markdown("Ctrl+Enter (⌘+Enter) in the idea box generates.", elem_id="shortcut-hint",
                        elem_classes=["tg-hint"])
            examples = gr.Examples(
                examples=[[p, s, pr] for p, s, pr, _ in EXAMPLES],
                inputs=[prompt, style, product],
                example_labels=[label for *_, label in EXAMPLES],
                label="Examples",
                elem_id="examples",
                cache_examples=False,
                api_visibility="private",
            )
            with gr.Accordion("Advanced", open=False, elem_id="advanced"):
                with gr.Row():
                    seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, maximum=MAX_SEED, elem_id="seed")
                    random_seed = gr.Checkbox(label="Random seed", value=True, elem_id="random-seed")
                steps = gr.Slider(1, MAX_STEPS, value=ctx.default_steps, step=1, label="Steps", elem_id="steps")
                negative_prompt = gr.Textbox(label="Negative prompt", value="", placeholder="what the image must not show",
                                             elem_id="negative-prompt")
                images = gr.Slider(1, MAX_BATCH, value=1, step=1, label="Number of images", elem_id="images",
                                   info="each image is its own job; with a fixed seed they get consecutive seeds")
            with gr.Accordion("Brief", open=False, elem_id="brief") as brief:
                gr.Markdown("Parse shows the brief the parser made. Edit it before generating: the final prompt "
                            "and negative prompt below are exactly what the image model receives. A brief made "
                            "for another idea, style, product or negative prompt is not used: Generate parses "
                            "the idea on screen afresh and says so.")
                with gr.Row():
                    subject.render()
                    colors.render()
                with gr.Row():
                    mood.render()
                    composition.render()
                final_prompt.render()
                final_negative.render()
        with gr.Column(scale=7, min_width=420, elem_id="result-pane"):
            status = gr.HTML(status_html([]), label="Status", elem_id="status")
            with gr.Row(equal_height=True):
                result = gr.Image(label="Design", type="filepath", interactive=False, elem_id="result", height=460,
                                  buttons=["fullscreen"])
                mockup = gr.Image(label="On the product", type="filepath", interactive=False, elem_id="mockup",
                                  height=460, buttons=["fullscreen"])
            with gr.Row():
                download = gr.DownloadButton("Download PNG", visible=False, elem_id="download")
                variation = gr.Button("Variation", visible=False, elem_id="variation")
                reuse = gr.Button("Reuse settings", visible=False, elem_id="reuse")
                retry = gr.Button("Retry", visible=False, elem_id="retry")
            batch = gr.Gallery(label="Results · pick one to work on", columns=2, height="auto", allow_preview=False,
                               object_fit="contain", visible=False, elem_id="batch")
            print_panel = create_print_panel(ctx)
            publish = create_publish_panel()
    components = GenerateComponents(
        prompt=prompt, idea_note=idea_note, style=style, product=product,
        product_info=product_info, seed=seed, random_seed=random_seed, steps=steps, negative_prompt=negative_prompt,
        images=images, generate=generate, brief=brief, subject=subject, colors=colors, mood=mood,
        composition=composition, final_prompt=final_prompt, final_negative=final_negative, status=status,
        result=result, mockup=mockup, download=download, batch=batch, variation=variation, reuse=reuse, retry=retry,
        jobs=gr.State(None), brief_source=gr.State(None),
    )
    handlers = GenerateHandlers(ctx, components)
    _wire(components, handlers, examples, parse, cancel)
    wire_print_panel(ctx, print_panel, components.jobs)
    wire_publish_panel(ctx, publish, components.jobs, components.result)
    return components


def _wire(c: GenerateComponents, handlers: GenerateHandlers, examples: gr.Examples, parse: gr.Button,
          cancel: gr.Button) -> None:
    # a picked example is a new idea: once it is in the form, its brief is parsed afresh
    examples.load_input_event.then(handlers.clear_brief, c.brief_source, [*c.brief_fields, c.brief_source], **PRIVATE)
    for edited in c.brief_source_fields:
        edited.input(None, None, c.brief_fields, js=CLEAR_BRIEF_JS)
    c.prompt.change(handlers.idea_changed, c.prompt, [c.idea_note, c.generate], queue=False,
                    show_progress="hidden", **PRIVATE)
    c.product.change(handlers.describe_product, c.product, c.product_info, queue=False, **PRIVATE)

    parse.click(handlers.parse_brief, [*c.brief_source_fields, c.steps, c.brief_source],
                [*c.brief_fields, c.brief, c.brief_source], api_name="parse")

    c.generate.click(handlers.starting, c.prompt, [*c.actions, c.idea_note], queue=False, **PRIVATE)
    generating = c.generate.click(handlers.generate_designs, c.generate_inputs, c.shown, api_name="generate",
                                  **STREAMS)
    generating.then(handlers.show_actions, c.jobs, c.actions, **PRIVATE)
    generating.failure(handlers.show_idea_error, c.prompt, c.idea_note, **PRIVATE)
    for button, run_again in ((c.variation, handlers.make_variation), (c.retry, handlers.retry)):
        button.click(handlers.hide_actions, None, c.actions, queue=False, **PRIVATE)
        button.click(run_again, c.jobs, c.shown, **STREAMS, **PRIVATE).then(
            handlers.show_actions, c.jobs, c.actions, **PRIVATE)

    cancel.click(handlers.cancel_jobs, c.jobs, None, api_name="cancel")
    c.reuse.click(handlers.reuse_settings, [c.jobs, c.brief_source], c.settings, **PRIVATE)
    c.batch.select(handlers.show_from_grid, c.jobs, [*c.shown, *c.actions], **PRIVATE)
