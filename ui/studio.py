"""The studio page: prompt, style, product, Generate; the job's status streams in place."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator

import gradio as gr
from PIL import Image

from core.errors import TenkaiGenError
from core.jobs import Job, JobStatus
from core.service import GenerateCommand, GenerationService

POLL_INTERVAL_S = 0.25
STATUS_LABELS = {
    JobStatus.PENDING: "Queued",
    JobStatus.PROCESSING: "Generating",
    JobStatus.COMPLETED: "Done",
    JobStatus.FAILED: "Failed",
    JobStatus.CANCELED: "Canceled",
}


def describe(job: Job, elapsed_s: float) -> str:
    """One status line a designer can read at a glance."""
    label = STATUS_LABELS[job.status]
    line = f"**{label}** · {elapsed_s:.1f} s"
    if job.status is JobStatus.PROCESSING and job.progress_step is not None and job.progress_total:
        line += f" · step {job.progress_step}/{job.progress_total}"
    if job.status is JobStatus.FAILED and job.error:
        line += f"\n\n{job.error}"
    return line


def create_ui(
    service: GenerationService,
    user_id: str,
    generator_label: str,
    max_wait_s: float = 600.0,
    resolve_user: Callable[[gr.Request], str] | None = None,
) -> gr.Blocks:
    """The studio. Jobs belong to `user_id`, or to `resolve_user(request)` when the app
    signs users in (Gradio's login: the request carries the username)."""
    styles = {s.name: s.id for s in service.catalog.styles.values()}
    products = {p.name: p.id for p in service.catalog.products.values()}

    def generate(
        prompt: str, style_name: str, product_name: str, request: gr.Request
    ) -> Iterator[tuple[str, Image.Image | None]]:
        started = time.monotonic()
        try:
            owner = resolve_user(request) if resolve_user else user_id
            job = service.submit(owner, GenerateCommand(prompt=prompt, style=styles[style_name], product=products[product_name]))
        except TenkaiGenError as exc:
            raise gr.Error(str(exc)) from exc
        while True:
            job = service.get_job(job.id)
            elapsed = time.monotonic() - started
            if job.status is JobStatus.COMPLETED:
                image = Image.open(io.BytesIO(service.load_image(job)))
                yield describe(job, elapsed), image
                return
            yield describe(job, elapsed), None
            if job.status.is_terminal:
                return
            if elapsed > max_wait_s:
                yield f"**Still running after {max_wait_s:.0f} s** — check back in the history later.", None
                return
            time.sleep(POLL_INTERVAL_S)

    with gr.Blocks(title="TenkaiGen") as studio:
        gr.Markdown(f"# TenkaiGen\nDesign generator for print-on-demand merch · generator: **{generator_label}**")
        with gr.Row():
            with gr.Column(scale=1):
                prompt = gr.Textbox(label="Your idea", placeholder="a cyberpunk samurai with neon lights", lines=3, elem_id="prompt")
                style = gr.Dropdown(list(styles), value=next(iter(styles)), label="Style", elem_id="style")
                product = gr.Dropdown(list(products), value=next(iter(products)), label="Product", elem_id="product")
                button = gr.Button("Generate", variant="primary", elem_id="generate")
            with gr.Column(scale=1):
                status = gr.Markdown("Ready.", elem_id="status")
                image = gr.Image(label="Design", type="pil", interactive=False, elem_id="result")
        button.click(generate, [prompt, style, product], [status, image], api_name="generate")
    return studio
