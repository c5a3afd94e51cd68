"""What the History tab's events do: show a page of the user's own jobs, newest first, and
restore a picked job's settings, brief and design on the Generate tab."""

from __future__ import annotations

import gradio as gr

from ui.components import GenerateComponents, HistoryComponents, Updates
from ui.context import StudioContext
from ui.errors import readable_errors
from ui.job_views import actions_for, caption, job_display, settings_values
from ui.publish_handlers import product_link_html
from ui.session_state import BriefSource, ShownJobs, checked

PAGE_SIZE = 12


class HistoryHandlers:
    def __init__(self, ctx: StudioContext, history: HistoryComponents, generate: GenerateComponents,
                 tabs: gr.Tabs) -> None:
        self.ctx = ctx
        self.history = history
        self.generate = generate
        self.tabs = tabs

    @readable_errors
    def show_page(self, page: int, request: gr.Request) -> Updates:
        page = max(0, int(page or 0))
        jobs = self.ctx.service.history(self.ctx.user(request), limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE)
        more = len(jobs) > PAGE_SIZE
        jobs = jobs[:PAGE_SIZE]
        h = self.history
        label = f"Page {page + 1} · newest first" if jobs else "No designs yet — generate one on the Generate tab."
        user = self.ctx.user(request)
        published = self.ctx.publishing.published(user, [j.id for j in jobs]) if self.ctx.publishing else {}
        in_store = {j.id: " · in the store" for j in jobs if j.id in published}
        return {
            h.gallery: [(self.ctx.files.thumbnail(j), caption(self.ctx.service.catalog, j) + in_store.get(j.id, ""))
                        for j in jobs],
            h.products: "".join(product_link_html(published[j.id]).replace('id="product-link" ', "")
                                for j in jobs if j.id in published),
            h.job_ids: [j.id for j in jobs],
            h.page: page,
            h.page_label: label,
            h.previous: gr.Button(interactive=page > 0),
            h.next: gr.Button(interactive=more),
        }

    def first_page(self, request: gr.Request) -> Updates:
        return self.show_page(0, request)

    def newer_page(self, page: int, request: gr.Request) -> Updates:
        return self.show_page(page - 1, request)

    def older_page(self, page: int, request: gr.Request) -> Updates:
        return self.show_page(page + 1, request)

    @readable_errors
    def restore(self, job_ids: list[str], shown: ShownJobs | None, source: BriefSource | None,
                event: gr.SelectData, request: gr.Request) -> Updates:
        """The picked job on the Generate tab: its settings and brief in the form, its design
        on show on its own (no batch), and the follow-up actions it allows."""
        user = self.ctx.user(request)
        checked(shown, user)  # the Generate tab's session state is the caller's to overwrite
        checked(source, user)
        job = self.ctx.service.owned_job(user, job_ids[event.index])
        g = self.generate
        return {
            **g.fill_settings(settings_values(job), user),
            **g.show_job(job_display(self.ctx.files, job), ShownJobs(user, (job.id,), job.id)),
            g.batch: gr.Gallery(value=[], visible=False),
            **g.show_actions(actions_for(job)),
            self.tabs: gr.Tabs(selected="generate"),
        }
