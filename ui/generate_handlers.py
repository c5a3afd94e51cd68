"""What the Generate tab's events do: parse a brief, generate a batch and stream its status,
cancel, run again, reuse a job's settings, pick a design from the batch.

Thin over GenerationService. Each handler returns `{component: update}` for the components in
its event's outputs. A job's status is streamed by an async generator that awaits between
polls, so a watched job holds no worker thread.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import anyio
import gradio as gr

from core.catalog import Product
from core.errors import InvalidTransition
from core.jobs import Job, JobStatus
from core.jobs.service import GenerateCommand
from ui.components import GenerateComponents, Updates
from ui.context import StudioContext
from ui.errors import readable_errors
from ui.job_status import JobView, message_html, status_html
from ui.job_views import EMPTY_BRIEF, JobActions, actions_for, brief_values, job_display, settings_values


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


# --- the handlers ------------------------------------------------------------------------------
class GenerateHandlers:
    """The Generate tab's event handlers over the studio's services.

    The parameter names of `parse_brief`, `generate_designs` and `cancel_jobs` are the studio
    API's (/parse, /generate, /cancel): keep them.
    """

    def __init__(self, ctx: StudioContext, components: GenerateComponents) -> None:
        self.ctx = ctx
        self.c = components

    def describe_product(self, product_id: str) -> str:
        return product_summary(self.ctx.service.catalog.product(product_id))

    def clear_brief(self) -> Updates:
        return self.c.fill_brief(EMPTY_BRIEF)

    @readable_errors
    def parse_brief(self, prompt: str, style: str, product: str, negative: str, steps: float) -> Updates:
        brief = self.ctx.service.brief_for(GenerateCommand(prompt=prompt, style=style, product=product,
                                                           negative_prompt=negative, steps=int(steps)))
        return {**self.c.fill_brief(brief_values(brief)), self.c.brief: gr.Accordion(open=True)}

    @readable_errors
    async def generate_designs(
        self, prompt: str, style: str, product: str, seed: float | None, random_seed: bool, steps: float,
        negative: str, images: float, subject: str, colors: str, mood: str, composition: str, final_prompt: str,
        final_negative: str, request: gr.Request,
    ) -> AsyncIterator[Updates]:
        """Generate 1-4 designs; streams each job's status, then the first design, its mockup
        and a download. style and product are catalog ids (GET /api/styles, /api/products)."""
        user = self.ctx.user(request)
        command = GenerateCommand(
            prompt=prompt, style=style, product=product,
            seed=None if random_seed or seed is None else int(seed),
            negative_prompt=negative or None, steps=int(steps),
            brief_overrides=brief_overrides(subject, colors, mood, composition, final_prompt, final_negative),
        )
        jobs = await anyio.to_thread.run_sync(self.ctx.service.submit_batch, user, command, int(images))
        async for update in self._stream(user, [j.id for j in jobs]):
            yield update

    @readable_errors
    def cancel_jobs(self, job_ids: list[str], request: gr.Request) -> None:
        user = self.ctx.user(request)
        canceled = 0
        for job_id in job_ids or []:
            if not self.ctx.service.owned_job(user, job_id).status.is_terminal:
                try:
                    self.ctx.service.cancel(user, job_id)
                    canceled += 1
                except InvalidTransition:
                    pass  # it finished while we looked
        gr.Info(f"Canceled {canceled} job{'s' if canceled != 1 else ''}." if canceled else "Nothing is running.")

    @readable_errors
    async def make_variation(self, current: str | None, request: gr.Request) -> AsyncIterator[Updates]:
        """The design on show again with a new seed."""
        async for update in self._run_again(current, request, keep_seed=False):
            yield update

    @readable_errors
    async def retry(self, current: str | None, request: gr.Request) -> AsyncIterator[Updates]:
        """The design on show again with its own seed (after it failed or was canceled)."""
        async for update in self._run_again(current, request, keep_seed=True):
            yield update

    @readable_errors
    def reuse_settings(self, current: str | None, request: gr.Request) -> Updates:
        if not current:
            raise gr.Error("There is no design to take the settings from.")
        return self.c.fill_settings(settings_values(self.ctx.service.owned_job(self.ctx.user(request), current)))

    @readable_errors
    def show_from_batch(self, job_ids: list[str], event: gr.SelectData, request: gr.Request) -> Updates:
        job = self.ctx.service.owned_job(self.ctx.user(request), job_ids[event.index])
        return {**self.c.show_job(job_display(self.ctx.files, job), job.id), **self.c.show_actions(actions_for(job))}

    def hide_actions(self) -> Updates:
        return self.c.show_actions(JobActions())

    def show_actions(self, current: str | None, request: gr.Request) -> Updates:
        """The follow-up buttons for the caller's job on show, once its stream has ended."""
        job = self.ctx.service.owned_job(self.ctx.user(request), current) if current else None
        return self.c.show_actions(actions_for(job))

    # --- streaming a batch ---------------------------------------------------------------------
    async def _run_again(self, current: str | None, request: gr.Request, keep_seed: bool) -> AsyncIterator[Updates]:
        if not current:
            raise gr.Error("Generate a design first.")
        user = self.ctx.user(request)
        job = await anyio.to_thread.run_sync(self.ctx.service.rerun, user, current, keep_seed)
        async for update in self._stream(user, [job.id]):
            yield update

    async def _stream(self, user: str, job_ids: list[str]) -> AsyncIterator[Updates]:
        """Yields the shown outputs until every job of the batch has finished.

        The first completed design (with its mockup and download) is shown as soon as it
        exists; the batch gallery fills in as the others finish.
        """
        ctx, c = self.ctx, self.c
        shown_id: str | None = None
        many = len(job_ids) > 1
        tiles_for: tuple[JobStatus, ...] = ()
        yield {c.status: message_html("queued", "Submitted…"), c.result: None, c.mockup: None,
               c.download: gr.DownloadButton(value=None, visible=False), c.batch: gr.Gallery(value=[], visible=many),
               c.batch_ids: job_ids, c.current_id: job_ids[0]}
        started = anyio.current_time()
        while True:
            views = await anyio.to_thread.run_sync(self._read_views, user, job_ids)
            update: Updates = {c.status: status_html(views)}
            if shown_id is None:
                first_done = next((v.job for v in views if v.job.status is JobStatus.COMPLETED), None)
                if first_done is not None:
                    shown_id = first_done.id
                    design, mockup = await anyio.to_thread.run_sync(self._files_for, first_done)
                    update |= {**c.show_design(design, mockup), c.current_id: first_done.id}
                elif all(v.job.status.is_terminal for v in views):
                    update[c.current_id] = views[0].job.id
            if many and tuple(v.job.status for v in views) != tiles_for:  # the gallery changes with a status
                tiles_for = tuple(v.job.status for v in views)
                update[c.batch] = await anyio.to_thread.run_sync(lambda: [ctx.files.thumbnail(v.job) for v in views])
            yield update
            if all(v.job.status.is_terminal for v in views):
                return
            if anyio.current_time() - started > ctx.max_wait_s:
                yield {c.status: message_html("waiting", f"Still running after {ctx.max_wait_s:.0f} s — it will "
                                              "appear in the History tab when it finishes.")}
                return
            await anyio.sleep(ctx.poll_interval_s)

    def _read_views(self, user: str, job_ids: list[str]) -> list[JobView]:
        views = []
        for job_id in job_ids:
            job = self.ctx.service.owned_job(user, job_id)
            position = self.ctx.service.queue_position(user, job_id) if job.status is JobStatus.PENDING else None
            views.append(JobView(job, position))
        return views

    def _files_for(self, job: Job) -> tuple[str, str]:
        return self.ctx.files.design(job), self.ctx.files.mockup(job)
