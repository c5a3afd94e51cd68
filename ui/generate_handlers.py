"""What the Generate tab's events do: parse a brief, generate a batch and stream its status,
cancel, run again, reuse a job's settings, pick a design from the result grid.

Thin over GenerationService. Each handler returns `{component: update}` for the components in
its event's outputs. A job's status is streamed by an async generator that awaits between
polls, so a watched job holds no worker thread. The session's states (ui.session_state) name
their owner: a handler given another user's state refuses it and writes none of it.
"""

from __future__ import annotations

import html
import math
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import anyio
import gradio as gr

from core.catalog import Product
from core.catalog.policy import PolicyViolation
from core.errors import InvalidRequest, InvalidTransition
from core.jobs import Job, JobStatus
from core.jobs.service import GenerateCommand
from ui.components import GenerateComponents, Updates
from ui.context import StudioContext
from ui.errors import readable_errors
from ui.job_status import JobView, message_html, status_html
from ui.job_views import EMPTY_BRIEF, JobActions, actions_for, brief_values, job_display, settings_values
from ui.session_state import BriefSource, ShownJobs, brief_fingerprint, checked

STALE_BRIEF = ("The brief below was made for an earlier idea, so this design was parsed afresh from the idea "
               "on screen; the edits to the old brief were not used. Press Parse to edit the new brief.")


# --- what the handlers compute (plain values, no components) ---------------------------------
def product_summary(product: Product) -> str:
    """The print area's aspect, the size the design is generated at (that aspect, within the
    model's rules) and the print size; and a note when the model cannot match the aspect."""
    w, h = product.generation_size
    w_in, h_in = product.print_area_in
    summary = (f"**Aspect {aspect_label(round(w_in * 100), round(h_in * 100))}** · generated at {w}×{h} px · "
               f"prints {w_in:g}×{h_in:g} in at {product.dpi} dpi")
    return f"{summary} · {product.generation_note}" if product.generation_note else summary


def aspect_label(width: int, height: int) -> str:
    """'3:4' when the ratio is a small fraction, else '1.79:1'."""
    divisor = math.gcd(width, height)
    a, b = width // divisor, height // divisor
    if max(a, b) <= 21:
        return f"{a}:{b}"
    return f"{width / height:.2f}:1" if width >= height else f"1:{height / width:.2f}"


def idea_note_html(prompt: str | None, limit: int, error: str = "") -> str:
    """The line under the idea: why it was refused (if it was), and '12 / 1000 characters'
    counted as the service counts them (whitespace folded)."""
    used = len(" ".join((prompt or "").split()))
    over = " tg-over" if used > limit else ""
    refusal = f'<span class="tg-field-error" role="alert">{html.escape(error)}</span>' if error else ""
    return (f'<div class="tg-idea-note">{refusal}'
            f'<span class="tg-count{over}" data-count="{used}">{used} / {limit} characters</span></div>')


def is_about_the_idea(exc: Exception) -> bool:
    """A refusal the idea box is at fault for: empty, too long, or refused by the policy."""
    return isinstance(exc, PolicyViolation) or (isinstance(exc, InvalidRequest) and str(exc).startswith("prompt "))


def seed_caption(job: Job) -> str:
    seed = f"seed {job.seed}" if job.seed is not None else "random seed"
    return seed if job.status is JobStatus.COMPLETED else f"{seed} · {job.status.value}"


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

    # idea refusals waiting for the page's failure handler, by session (bounded: API callers
    # never collect theirs)
    MAX_PENDING_ERRORS = 256

    def __init__(self, ctx: StudioContext, components: GenerateComponents) -> None:
        self.ctx = ctx
        self.c = components
        self._idea_errors: OrderedDict[str, str] = OrderedDict()

    def describe_product(self, product_id: str) -> str:
        return product_summary(self.ctx.service.catalog.product(product_id))

    def idea_changed(self, prompt: str | None) -> Updates:
        """The counter under the idea (an old refusal gone), Generate enabled once there is an idea."""
        return {self.c.idea_note: idea_note_html(prompt, self.ctx.max_prompt_chars),
                self.c.generate: gr.Button(interactive=bool((prompt or "").strip()))}

    def clear_brief(self, source: BriefSource | None, request: gr.Request) -> Updates:
        user = self.ctx.user(request)
        if source is not None and source.owner != user:
            return self.c.fill_brief(EMPTY_BRIEF)  # another's state: left as it is
        return {**self.c.fill_brief(EMPTY_BRIEF), self.c.brief_source: BriefSource(user)}

    @readable_errors
    def parse_brief(self, prompt: str, style: str, product: str, negative: str, steps: float,
                    source: BriefSource | None, request: gr.Request) -> Updates:
        user = self.ctx.user(request)
        checked(source, user)
        brief = self.ctx.service.brief_for(GenerateCommand(prompt=prompt, style=style, product=product,
                                                           negative_prompt=negative, steps=int(steps)))
        return {**self.c.fill_brief(brief_values(brief)), self.c.brief: gr.Accordion(open=True),
                self.c.brief_source: BriefSource(user, brief_fingerprint(prompt, style, product, negative))}

    @readable_errors
    async def generate_designs(
        self, prompt: str, style: str, product: str, seed: float | None, random_seed: bool, steps: float,
        negative: str, images: float, subject: str, colors: str, mood: str, composition: str, final_prompt: str,
        final_negative: str, shown: ShownJobs | None, source: BriefSource | None, request: gr.Request,
    ) -> AsyncIterator[Updates]:
        """Generate 1-4 designs; streams each job's status, then the first design, its mockup
        and a download. style and product are catalog ids (GET /api/styles, /api/products)."""
        user = self.ctx.user(request)
        checked(shown, user)
        source = checked(source, user)
        overrides = brief_overrides(subject, colors, mood, composition, final_prompt, final_negative)
        # the brief fields may still hold a brief parsed from another idea (a paste, a restore,
        # an example): checked here, where no page script can skip it
        if overrides is not None and source is not None and not source.matches(prompt, style, product, negative):
            overrides = None
            gr.Warning(STALE_BRIEF)
        command = GenerateCommand(
            prompt=prompt, style=style, product=product,
            seed=None if random_seed or seed is None else int(seed),
            negative_prompt=negative or None, steps=int(steps), brief_overrides=overrides,
        )
        try:
            jobs = await anyio.to_thread.run_sync(self.ctx.service.submit_batch, user, command, int(images))
        except InvalidRequest as exc:
            if is_about_the_idea(exc):
                self._hold_idea_error(request, str(exc))
            raise
        async for update in self._stream(user, ShownJobs(user).with_new([j.id for j in jobs], keep=False)):
            yield update

    def show_idea_error(self, prompt: str | None, request: gr.Request) -> Updates:
        """After a failed Generate: the idea's refusal under the idea box (nothing when the
        failure was not the idea's)."""
        error = self._idea_errors.pop(request.session_hash or "", "")
        return {self.c.idea_note: idea_note_html(prompt, self.ctx.max_prompt_chars, error)}

    def _hold_idea_error(self, request: gr.Request, message: str) -> None:
        self._idea_errors[request.session_hash or ""] = message
        while len(self._idea_errors) > self.MAX_PENDING_ERRORS:
            self._idea_errors.popitem(last=False)

    @readable_errors
    def cancel_jobs(self, shown: ShownJobs | None, request: gr.Request) -> None:
        user = self.ctx.user(request)
        canceled = 0
        for job_id in (checked(shown, user) or ShownJobs(user)).ids:
            if not self.ctx.service.owned_job(user, job_id).status.is_terminal:
                try:
                    self.ctx.service.cancel(user, job_id)
                    canceled += 1
                except InvalidTransition:
                    pass  # it finished while we looked
        gr.Info(f"Canceled {canceled} job{'s' if canceled != 1 else ''}." if canceled else "Nothing is running.")

    @readable_errors
    async def make_variation(self, shown: ShownJobs | None, request: gr.Request) -> AsyncIterator[Updates]:
        """The design on show again with a new seed, added to the grid beside the others."""
        async for update in self._run_again(shown, request, keep_seed=False):
            yield update

    @readable_errors
    async def retry(self, shown: ShownJobs | None, request: gr.Request) -> AsyncIterator[Updates]:
        """The design on show again with its own seed (after it failed or was canceled)."""
        async for update in self._run_again(shown, request, keep_seed=True):
            yield update

    @readable_errors
    def reuse_settings(self, shown: ShownJobs | None, source: BriefSource | None, request: gr.Request) -> Updates:
        user = self.ctx.user(request)
        checked(source, user)
        current = (checked(shown, user) or ShownJobs(user)).current
        if not current:
            raise gr.Error("There is no design to take the settings from.")
        return self.c.fill_settings(settings_values(self.ctx.service.owned_job(user, current)), user)

    @readable_errors
    def show_from_grid(self, shown: ShownJobs | None, event: gr.SelectData, request: gr.Request) -> Updates:
        """The picked design becomes the current one: in the main panes, for variation and reuse."""
        user = self.ctx.user(request)
        held = checked(shown, user) or ShownJobs(user)
        if not 0 <= event.index < len(held.ids):
            raise gr.Error("That design is no longer in the grid.")
        job = self.ctx.service.owned_job(user, held.ids[event.index])
        return {**self.c.show_job(job_display(self.ctx.files, job), held.showing(job.id)),
                **self.c.show_actions(actions_for(job))}

    def hide_actions(self) -> Updates:
        return self.c.show_actions(JobActions())

    def starting(self, prompt: str | None) -> Updates:
        """Generate pressed: no follow-up buttons while it runs, no refusal left from before."""
        return {**self.hide_actions(), self.c.idea_note: idea_note_html(prompt, self.ctx.max_prompt_chars)}

    def show_actions(self, shown: ShownJobs | None, request: gr.Request) -> Updates:
        """The follow-up buttons for the caller's job on show, once its stream has ended."""
        user = self.ctx.user(request)
        if shown is None or shown.owner != user or not shown.current:
            return self.c.show_actions(JobActions())
        return self.c.show_actions(actions_for(self.ctx.service.owned_job(user, shown.current)))

    # --- streaming a batch ---------------------------------------------------------------------
    async def _run_again(self, shown: ShownJobs | None, request: gr.Request, keep_seed: bool) -> AsyncIterator[Updates]:
        user = self.ctx.user(request)
        held = checked(shown, user)
        if held is None or not held.current:
            raise gr.Error("Generate a design first.")
        job = await anyio.to_thread.run_sync(self.ctx.service.rerun, user, held.current, keep_seed)
        async for update in self._stream(user, held.with_new([job.id], keep=True), clear=False):
            yield update

    async def _stream(self, user: str, shown: ShownJobs, clear: bool = True) -> AsyncIterator[Updates]:
        """Yields the shown outputs until every new job (`shown.current` and those after it in
        the grid) has finished.

        The first completed design (with its mockup and download) is shown as soon as it
        exists; the grid fills in as the others finish.
        """
        ctx, c = self.ctx, self.c
        new_ids = list(shown.ids[shown.ids.index(shown.current):]) if shown.current in shown.ids else list(shown.ids)
        shown_id: str | None = None
        tiles_for: tuple[JobStatus, ...] = ()
        first: Updates = {c.status: message_html("queued", "Submitted…"), c.jobs: shown,
                          c.batch: gr.Gallery(value=[], visible=len(shown.ids) > 1) if clear else gr.skip()}
        if clear:
            first |= {c.result: None, c.mockup: None, c.download: gr.DownloadButton(value=None, visible=False)}
        yield first
        started = anyio.current_time()
        while True:
            views = await anyio.to_thread.run_sync(self._read_views, user, new_ids)
            update: Updates = {c.status: status_html(views)}
            if shown_id is None:
                first_done = next((v.job for v in views if v.job.status is JobStatus.COMPLETED), None)
                if first_done is not None:
                    shown_id = first_done.id
                    shown = shown.showing(first_done.id)
                    design, mockup = await anyio.to_thread.run_sync(self._files_for, first_done)
                    update |= {**c.show_design(design, mockup), c.jobs: shown}
            if len(shown.ids) > 1 and tuple(v.job.status for v in views) != tiles_for:  # tiles change with a status
                tiles_for = tuple(v.job.status for v in views)
                update[c.batch] = gr.Gallery(value=await anyio.to_thread.run_sync(self._grid, user, shown),
                                             visible=True, selected_index=None)
            yield update
            if all(v.job.status.is_terminal for v in views):
                return
            if anyio.current_time() - started > ctx.max_wait_s:
                yield {c.status: message_html("waiting", f"Still running after {ctx.max_wait_s:.0f} s — it will "
                                              "appear in the History tab when it finishes.")}
                return
            await anyio.sleep(ctx.poll_interval_s)

    def _grid(self, user: str, shown: ShownJobs) -> list[tuple[str, str]]:
        """The grid's tiles: each design (or its status) captioned with its seed."""
        tiles = []
        for job_id in shown.ids:
            job = self.ctx.service.owned_job(user, job_id)
            tiles.append((self.ctx.files.thumbnail(job), seed_caption(job)))
        return tiles

    def _read_views(self, user: str, job_ids: list[str]) -> list[JobView]:
        views = []
        for job_id in job_ids:
            job = self.ctx.service.owned_job(user, job_id)
            position = self.ctx.service.queue_position(user, job_id) if job.status is JobStatus.PENDING else None
            views.append(JobView(job, position))
        return views

    def _files_for(self, job: Job) -> tuple[str, str]:
        return self.ctx.files.design(job), self.ctx.files.mockup(job)
