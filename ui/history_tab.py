"""The History tab: the user's own jobs, newest first, a page at a time; picking one
restores its brief and image on the Generate tab."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from core.jobs import Job
from ui.context import StudioContext
from ui.errors import readable_errors
from ui.generate_tab import GenerateTab, actions_handler, settings_values, show_job

PAGE_SIZE = 12


@dataclass
class HistoryTab:
    gallery: gr.Gallery
    page_label: gr.Markdown
    previous: gr.Button
    next: gr.Button
    page: gr.State
    job_ids: gr.State

    @property
    def page_outputs(self) -> list[gr.components.Component]:
        return [self.gallery, self.job_ids, self.page, self.page_label, self.previous, self.next]


def caption(ctx: StudioContext, job: Job) -> str:
    styles, products = ctx.service.catalog.styles, ctx.service.catalog.products
    style = styles[job.style].name if job.style in styles else job.style
    product = products[job.product].name if job.product in products else job.product
    prompt = job.prompt if len(job.prompt) <= 60 else job.prompt[:59] + "…"
    return f"{job.status.value} · {style} · {product} — {prompt}"


def create_history_tab(ctx: StudioContext, generate: GenerateTab, tabs: gr.Tabs, tab: gr.Tab) -> HistoryTab:
    with gr.Row():
        previous = gr.Button("← Newer", size="sm", interactive=False, elem_id="history-previous")
        page_label = gr.Markdown("", elem_id="history-page")
        following = gr.Button("Older →", size="sm", interactive=False, elem_id="history-next")
        refresh = gr.Button("Refresh", size="sm", elem_id="history-refresh")
    gallery = gr.Gallery(label="Your designs", columns=4, height="auto", allow_preview=False, object_fit="contain",
                         elem_id="history-gallery")
    history = HistoryTab(gallery, page_label, previous, following, gr.State(0), gr.State([]))

    @readable_errors
    def load_page(page: int, request: gr.Request) -> list[Any]:
        page = max(0, int(page or 0))
        jobs = ctx.service.history(ctx.user(request), limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE)
        more = len(jobs) > PAGE_SIZE
        jobs = jobs[:PAGE_SIZE]
        items = [(ctx.files.thumbnail(j), caption(ctx, j)) for j in jobs]
        label = f"Page {page + 1} · newest first" if jobs else "No designs yet — generate one on the Generate tab."
        return [items, [j.id for j in jobs], page, label, gr.Button(interactive=page > 0), gr.Button(interactive=more)]

    def first_page(request: gr.Request) -> list[Any]:
        return load_page(0, request)

    def newer_page(page: int, request: gr.Request) -> list[Any]:
        return load_page(page - 1, request)

    def older_page(page: int, request: gr.Request) -> list[Any]:
        return load_page(page + 1, request)

    options: dict[str, Any] = {"api_visibility": "private"}
    tab.select(first_page, None, history.page_outputs, **options)
    refresh.click(load_page, history.page, history.page_outputs, **options)
    previous.click(newer_page, history.page, history.page_outputs, **options)
    following.click(older_page, history.page, history.page_outputs, **options)

    @readable_errors
    def restore(job_ids: list[str], event: gr.SelectData, request: gr.Request) -> list[Any]:
        job = ctx.service.owned_job(ctx.user(request), job_ids[event.index])
        shown = [*show_job(ctx, job), gr.Gallery(value=[], visible=False), [job.id], job.id]
        return [*settings_values(job), *shown, gr.Tabs(selected="generate")]

    gallery.select(restore, history.job_ids, [*generate.settings, *generate.shown, tabs], **options).then(
        actions_handler(ctx), generate.current_id, generate.actions, **options)
    return history
