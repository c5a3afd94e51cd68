"""The Generate tab: idea, style, product, advanced settings, the editable brief, and the
result streaming in place with its product mockup.

Handlers are thin over GenerationService. The job status is streamed by an async
generator that awaits between polls, so a watched job holds no worker thread.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import gradio as gr

from core.catalog import Product
from core.errors import InvalidTransition
from core.jobs import Job, JobStatus
from core.parsing import ParsedPrompt
from core.jobs.limits import MAX_BATCH, MAX_SEED, MAX_STEPS
from core.jobs.service import GenerateCommand
from ui.context import StudioContext
from ui.errors import readable_errors
from ui.job_status import JobView, message_html, status_html

# Generation streams mostly sleep between status reads, so many can run at once; this
# bounds them per app (20 jobs in flight across sessions must not queue behind each other).
STREAM_CONCURRENCY = 64

EXAMPLES: list[tuple[str, str, str, str]] = [
    ("a cyberpunk samurai with neon lights", "cyberpunk-neon", "t-shirt", "Cyberpunk samurai · neon · T-shirt"),
    ("a whale swimming through clouds at dawn, pastel colors", "watercolor", "poster", "Whale at dawn · watercolor · poster"),
    ("a cute corgi astronaut floating in space", "anime", "sticker", "Corgi astronaut · anime · sticker"),
    ("a great wave with mount fuji and a red sun", "ukiyo-e", "tote-bag", "Great wave · ukiyo-e · tote"),
    ("a cat sleeping on the crescent moon", "line-art", "mug", "Moon cat · line art · mug"),
    ("a dragon guarding a castle at sunset", "pixel-art", "phone-case", "Castle dragon · pixel art · phone case"),
]


@dataclass
class GenerateTab:
    """The tab's components, for the other tabs to read and fill."""

    prompt: gr.Textbox
    style: gr.Radio
    product: gr.Radio
    product_info: gr.Markdown
    seed: gr.Number
    random_seed: gr.Checkbox
    steps: gr.Slider
    negative_prompt: gr.Textbox
    images: gr.Slider
    brief: gr.Accordion
    subject: gr.Textbox
    colors: gr.Textbox
    mood: gr.Textbox
    composition: gr.Textbox
    final_prompt: gr.Textbox
    final_negative: gr.Textbox
    status: gr.HTML
    result: gr.Image
    mockup: gr.Image
    download: gr.DownloadButton
    batch: gr.Gallery
    variation: gr.Button
    reuse: gr.Button
    retry: gr.Button
    batch_ids: gr.State
    current_id: gr.State

    @property
    def settings(self) -> list[gr.components.Component]:
        """What "reuse settings" and a history restore fill in, in `settings_values` order."""
        return [self.prompt, self.style, self.product, self.seed, self.random_seed, self.steps,
                self.negative_prompt, self.images, *self.brief_fields, self.brief]

    @property
    def brief_fields(self) -> list[gr.components.Component]:
        return [self.subject, self.colors, self.mood, self.composition, self.final_prompt, self.final_negative]

    @property
    def shown(self) -> list[gr.components.Component]:
        """What a streaming job updates, in `ResultUpdate` order."""
        return [self.status, self.result, self.mockup, self.download, self.batch, self.batch_ids, self.current_id]

    @property
    def actions(self) -> list[gr.components.Component]:
        return [self.variation, self.reuse, self.retry]


# --- what the handlers compute (plain values, no components) ---------------------------------
def product_summary(product: Product) -> str:
    w, h = product.generation_size
    w_in, h_in = product.print_area_in
    return (f"**Aspect {aspect_label(w, h)}** · generated at {w}×{h} px · "
            f"prints {w_in:g}×{h_in:g} in at {product.dpi} dpi")


def aspect_label(width: int, height: int) -> str:
    """'3:4' when the ratio is a small fraction, else '1.79:1'."""
    divisor = math.gcd(width, height)
    a, b = width // divisor, height // divisor
    if max(a, b) <= 21:
        return f"{a}:{b}"
    return f"{width / height:.2f}:1" if width >= height else f"1:{height / width:.2f}"


def brief_values(brief: ParsedPrompt) -> list[Any]:
    return [brief.subject, ", ".join(brief.colors), brief.mood or "", brief.composition or "", brief.prompt,
            brief.negative_prompt]


def brief_overrides(subject: str, colors: str, mood: str, composition: str, final_prompt: str,
                    final_negative: str) -> dict[str, Any] | None:
    """The edited brief, when there is one: a brief counts once its final prompt is filled in
    (by Parse, a restore, or an API caller); an empty final prompt means "parse afresh"."""
    if not (final_prompt or "").strip():
        return None
    return {
        "subject": subject or "",
        "colors": [c.strip() for c in (colors or "").split(",") if c.strip()],
        "mood": mood,
        "composition": composition,
        "prompt": final_prompt,
        "negative_prompt": final_negative or "",
    }


def settings_values(job: Job) -> list[Any]:
    """A job's settings as the Generate form holds them, the brief included and shown (so
    generating again reproduces the same brief)."""
    brief = ParsedPrompt.model_validate(job.parsed_prompt)
    return [job.prompt, job.style, job.product, job.seed, False, brief.steps or gr.skip(), brief.negative_prompt, 1,
            *brief_values(brief), gr.Accordion(open=True)]


def empty_brief() -> list[str]:
    return [""] * 6


# --- building the tab ------------------------------------------------------------------------
def create_generate_tab(ctx: StudioContext) -> GenerateTab:
    catalog = ctx.service.catalog
    first_product = next(iter(catalog.products.values()))
    # made before the layout (render=False) so the examples under the prompt can fill them
    style = gr.Radio([(s.name, s.id) for s in catalog.styles.values()], value=next(iter(catalog.styles)),
                     label="Style", elem_id="style", elem_classes=["tg-styles"], render=False)
    product = gr.Radio([(p.name, p.id) for p in catalog.products.values()], value=first_product.id,
                       label="Product", elem_id="product", render=False)
    subject = gr.Textbox(label="Subject", value="", elem_id="brief-subject", render=False)
    colors = gr.Textbox(label="Colours", value="", placeholder="comma separated", elem_id="brief-colors", render=False)
    mood = gr.Textbox(label="Mood", value="", elem_id="brief-mood", render=False)
    composition = gr.Textbox(label="Composition", value="", elem_id="brief-composition", render=False)
    final_prompt = gr.Textbox(label="Final prompt", value="", lines=3, elem_id="brief-prompt", render=False)
    final_negative = gr.Textbox(label="Final negative prompt", value="", lines=2, elem_id="brief-negative", render=False)
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=360):
            prompt = gr.Textbox(label="Your idea", placeholder="a cyberpunk samurai with neon lights", lines=3,
                                max_lines=8, elem_id="prompt")
            gr.Examples(
                examples=[[p, s, pr] for p, s, pr, _ in EXAMPLES],
                inputs=[prompt, style, product],
                example_labels=[label for *_, label in EXAMPLES],
                label="Examples",
                elem_id="examples",
                fn=lambda *_: empty_brief(),  # an example is a new idea: its brief is parsed afresh
                outputs=[subject, colors, mood, composition, final_prompt, final_negative],
                run_on_click=True,
                cache_examples=False,
                api_visibility="private",
            )
            style.render()
            product.render()
            product_info = gr.Markdown(product_summary(first_product), elem_id="product-info")
            with gr.Accordion("Advanced", open=False, elem_id="advanced"):
                with gr.Row():
                    seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, maximum=MAX_SEED, elem_id="seed")
                    random_seed = gr.Checkbox(label="Random seed", value=True, elem_id="random-seed")
                steps = gr.Slider(1, MAX_STEPS, value=ctx.default_steps, step=1, label="Steps", elem_id="steps")
                negative_prompt = gr.Textbox(label="Negative prompt", value="", placeholder="what the image must not show",
                                             elem_id="negative-prompt")
                images = gr.Slider(1, MAX_BATCH, value=1, step=1, label="Number of images", elem_id="images",
                                   info="each image is its own job; with a fixed seed they get consecutive seeds")
            with gr.Row():
                parse = gr.Button("Parse", elem_id="parse", min_width=80)
                generate = gr.Button("Generate", variant="primary", elem_id="generate", min_width=80, scale=2)
                cancel = gr.Button("Cancel", variant="stop", elem_id="cancel", min_width=80)
            with gr.Accordion("Brief", open=False, elem_id="brief") as brief:
                gr.Markdown("Parse shows the brief the parser made. Edit it before generating: the final prompt "
                            "and negative prompt below are exactly what the image model receives. Changing the "
                            "idea, style or product clears it.")
                with gr.Row():
                    subject.render()
                    colors.render()
                with gr.Row():
                    mood.render()
                    composition.render()
                final_prompt.render()
                final_negative.render()
        with gr.Column(scale=7, min_width=420):
            status = gr.HTML(status_html([]), label="Status", elem_id="status")
            with gr.Row(equal_height=True):
                result = gr.Image(label="Design", type="filepath", interactive=False, elem_id="result", height=460,
                                  buttons=["fullscreen"])
                mockup = gr.Image(label="On the product", type="filepath", interactive=False, elem_id="mockup",
                                  height=460, buttons=["fullscreen"])
            batch = gr.Gallery(label="This batch", columns=4, height=150, allow_preview=False, visible=False,
                               elem_id="batch")
            with gr.Row():
                download = gr.DownloadButton("Download PNG", visible=False, elem_id="download")
                variation = gr.Button("Variation", visible=False, elem_id="variation")
                reuse = gr.Button("Reuse settings", visible=False, elem_id="reuse")
                retry = gr.Button("Retry", visible=False, elem_id="retry")
    tab = GenerateTab(
        prompt=prompt, style=style, product=product, product_info=product_info, seed=seed, random_seed=random_seed,
        steps=steps, negative_prompt=negative_prompt, images=images, brief=brief, subject=subject, colors=colors,
        mood=mood, composition=composition, final_prompt=final_prompt, final_negative=final_negative, status=status,
        result=result, mockup=mockup, download=download, batch=batch, variation=variation, reuse=reuse, retry=retry,
        batch_ids=gr.State([]), current_id=gr.State(None),
    )
    _wire(ctx, tab, parse, generate, cancel)
    return tab


def _wire(ctx: StudioContext, tab: GenerateTab, parse: gr.Button, generate: gr.Button, cancel: gr.Button) -> None:
    service = ctx.service
    clear_brief_js = "() => ['', '', '', '', '', '']"
    for edited in (tab.prompt, tab.style, tab.product, tab.negative_prompt):
        # client-side only: the brief no longer matches what it was parsed from
        edited.input(None, None, tab.brief_fields, js=clear_brief_js)
    tab.product.change(lambda product_id: product_summary(service.catalog.product(product_id)), tab.product,
                       tab.product_info, api_visibility="private", queue=False)

    @readable_errors
    def parse_brief(prompt: str, style: str, product: str, negative: str, steps: float) -> list[Any]:
        brief = service.brief_for(GenerateCommand(prompt=prompt, style=style, product=product,
                                                  negative_prompt=negative, steps=int(steps)))
        return [*brief_values(brief), gr.Accordion(open=True)]

    parse.click(parse_brief, [tab.prompt, tab.style, tab.product, tab.negative_prompt, tab.steps],
                [*tab.brief_fields, tab.brief], api_name="parse")

    @readable_errors
    async def generate_designs(
        prompt: str, style: str, product: str, seed: float | None, random_seed: bool, steps: float, negative: str,
        images: float, subject: str, colors: str, mood: str, composition: str, final_prompt: str,
        final_negative: str, request: gr.Request,
    ) -> AsyncIterator[list[Any]]:
        """Generate 1-4 designs; streams each job's status, then the first design, its mockup
        and a download. style and product are catalog ids (GET /api/styles, /api/products)."""
        user = ctx.user(request)
        command = GenerateCommand(
            prompt=prompt, style=style, product=product,
            seed=None if random_seed or seed is None else int(seed),
            negative_prompt=negative or None, steps=int(steps),
            brief_overrides=brief_overrides(subject, colors, mood, composition, final_prompt, final_negative),
        )
        jobs = await anyio.to_thread.run_sync(service.submit_batch, user, command, int(images))
        async for update in _stream(ctx, user, [j.id for j in jobs]):
            yield update

    stream_options: dict[str, Any] = {"concurrency_limit": STREAM_CONCURRENCY, "concurrency_id": "job-stream"}
    inputs = [tab.prompt, tab.style, tab.product, tab.seed, tab.random_seed, tab.steps, tab.negative_prompt,
              tab.images, *tab.brief_fields]
    hide_actions = [gr.Button(visible=False)] * 3
    generate.click(lambda: hide_actions, None, tab.actions, api_visibility="private", queue=False)
    generate.click(generate_designs, inputs, tab.shown, api_name="generate", **stream_options).then(
        actions_handler(ctx), tab.current_id, tab.actions, api_visibility="private")

    @readable_errors
    def cancel_jobs(job_ids: list[str], request: gr.Request) -> None:
        user = ctx.user(request)
        canceled = 0
        for job_id in job_ids or []:
            if not service.owned_job(user, job_id).status.is_terminal:
                try:
                    service.cancel(user, job_id)
                    canceled += 1
                except InvalidTransition:
                    pass  # it finished while we looked
        gr.Info(f"Canceled {canceled} job{'s' if canceled != 1 else ''}." if canceled else "Nothing is running.")

    cancel.click(cancel_jobs, tab.batch_ids, None, api_name="cancel")

    def rerun(keep_seed: bool) -> Callable[..., AsyncIterator[list[Any]]]:
        @readable_errors
        async def run_again(current: str | None, request: gr.Request) -> AsyncIterator[list[Any]]:
            if not current:
                raise gr.Error("Generate a design first.")
            user = ctx.user(request)
            job = await anyio.to_thread.run_sync(service.rerun, user, current, keep_seed)
            async for update in _stream(ctx, user, [job.id]):
                yield update

        return run_again

    for button, keep_seed in ((tab.variation, False), (tab.retry, True)):
        button.click(lambda: hide_actions, None, tab.actions, api_visibility="private", queue=False)
        button.click(rerun(keep_seed), tab.current_id, tab.shown, api_visibility="private", **stream_options).then(
            actions_handler(ctx), tab.current_id, tab.actions, api_visibility="private")

    @readable_errors
    def reuse_settings(current: str | None, request: gr.Request) -> list[Any]:
        if not current:
            raise gr.Error("There is no design to take the settings from.")
        return settings_values(service.owned_job(ctx.user(request), current))

    tab.reuse.click(reuse_settings, tab.current_id, tab.settings, api_visibility="private")

    @readable_errors
    def show_from_batch(job_ids: list[str], event: gr.SelectData, request: gr.Request) -> list[Any]:
        job = service.owned_job(ctx.user(request), job_ids[event.index])
        return [*show_job(ctx, job)[:4], gr.skip(), gr.skip(), job.id]

    tab.batch.select(show_from_batch, tab.batch_ids, tab.shown, api_visibility="private").then(
        actions_handler(ctx), tab.current_id, tab.actions, api_visibility="private")


def actions_handler(ctx: StudioContext) -> Callable[[str | None, gr.Request], list[gr.Button]]:
    """The event handler showing the actions for the caller's current job (`actions_for`)."""
    def show_actions(current: str | None, request: gr.Request) -> list[gr.Button]:
        return actions_for(ctx, ctx.user(request), current)

    return show_actions


def actions_for(ctx: StudioContext, user: str, current: str | None) -> list[gr.Button]:
    """Variation and reuse for any finished job; retry for a failed or canceled one."""
    if not current:
        return [gr.Button(visible=False)] * 3
    job = ctx.service.owned_job(user, current)
    retryable = job.status in {JobStatus.FAILED, JobStatus.CANCELED}
    return [gr.Button(visible=job.status.is_terminal), gr.Button(visible=job.status.is_terminal),
            gr.Button(visible=retryable)]


def show_job(ctx: StudioContext, job: Job) -> list[Any]:
    """status, design, mockup and download for one finished job (a restore or a batch pick)."""
    if job.status is not JobStatus.COMPLETED:
        return [status_html([JobView(job)]), None, None, gr.DownloadButton(visible=False)]
    design = ctx.files.design(job)
    return [status_html([JobView(job)]), design, ctx.files.mockup(job), gr.DownloadButton(value=design, visible=True)]


async def _stream(ctx: StudioContext, user: str, job_ids: list[str]) -> AsyncIterator[list[Any]]:
    """Yields the shown outputs until every job of the batch has finished.

    The first completed design (with its mockup and download) is shown as soon as it
    exists; the batch gallery fills in as the others finish.
    """
    shown_id: str | None = None
    many = len(job_ids) > 1
    tiles_for: tuple[JobStatus, ...] = ()
    yield [message_html("queued", "Submitted…"), None, None, gr.DownloadButton(value=None, visible=False),
           gr.Gallery(value=[], visible=many), job_ids, job_ids[0]]
    started = anyio.current_time()
    while True:
        views = await anyio.to_thread.run_sync(_read_views, ctx, user, job_ids)
        update: list[Any] = [status_html(views), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()]
        if shown_id is None:
            first_done = next((v.job for v in views if v.job.status is JobStatus.COMPLETED), None)
            if first_done is not None:
                shown_id = first_done.id
                design, mockup = await anyio.to_thread.run_sync(_files_for, ctx, first_done)
                update[1:4] = [design, mockup, gr.DownloadButton(value=design, visible=True)]
                update[6] = first_done.id
            elif all(v.job.status.is_terminal for v in views):
                update[6] = views[0].job.id
        if many and tuple(v.job.status for v in views) != tiles_for:  # the gallery changes with a status
            tiles_for = tuple(v.job.status for v in views)
            update[4] = await anyio.to_thread.run_sync(lambda: [ctx.files.thumbnail(v.job) for v in views])
        yield update
        if all(v.job.status.is_terminal for v in views):
            return
        if anyio.current_time() - started > ctx.max_wait_s:
            yield [message_html("waiting", f"Still running after {ctx.max_wait_s:.0f} s — it will appear in the "
                                "History tab when it finishes."), *[gr.skip()] * 6]
            return
        await anyio.sleep(ctx.poll_interval_s)


def _read_views(ctx: StudioContext, user: str, job_ids: list[str]) -> list[JobView]:
    views = []
    for job_id in job_ids:
        job = ctx.service.owned_job(user, job_id)
        position = ctx.service.queue_position(user, job_id) if job.status is JobStatus.PENDING else None
        views.append(JobView(job, position))
    return views


def _files_for(ctx: StudioContext, job: Job) -> tuple[str, str]:
    return ctx.files.design(job), ctx.files.mockup(job)
