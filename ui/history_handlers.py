"""What the History tab's events do: show a page of the user's own jobs, newest first, through
the filters; pick one to see it in full, favourite, download or delete it; open it on the
Generate tab (its settings, brief and design restored)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from core.jobs import HistoryFilter, Job, JobStatus
from ui.components import GenerateComponents, HistoryComponents, Updates
from ui.context import StudioContext
from ui.errors import readable_errors
from ui.job_views import actions_for, caption, job_display, settings_values
from ui.publish_handlers import product_link_html
from ui.session_state import BriefSource, ShownJobs, checked

PAGE_SIZE = 18  # three rows of six

# the status filter's choices: (label, value) and the statuses each value keeps (None: any)
STATUS_CHOICES = [("Any status", "any"), ("Completed", "completed"), ("In progress", "in-progress"),
                  ("Failed", "failed"), ("Canceled", "canceled")]
STATUSES_BY_CHOICE: dict[str, frozenset[JobStatus] | None] = {
    "any": None,
    "completed": frozenset({JobStatus.COMPLETED}),
    "in-progress": frozenset({JobStatus.PENDING, JobStatus.PROCESSING}),
    "failed": frozenset({JobStatus.FAILED}),
    "canceled": frozenset({JobStatus.CANCELED}),
}
# what "any status" shows until "show canceled and failed" is ticked
UNFOLDED = frozenset(JobStatus) - {JobStatus.FAILED, JobStatus.CANCELED}
ANY = ""  # the style and product filters' "any" value

NOTHING_PICKED = ("Pick a design to see its whole caption, open it on the Generate tab, favourite, download or "
                  "delete it.")


@dataclass(frozen=True)
class FilterValues:
    """The filter components' values, in HistoryComponents.filters order."""

    status: str
    style: str
    product: str
    favorites_only: bool
    show_folded: bool

    @property
    def folded(self) -> bool:
        """Canceled and failed jobs are hidden: 'any status' without 'show canceled and failed'."""
        return STATUSES_BY_CHOICE.get(self.status) is None and not self.show_folded

    @property
    def narrowed(self) -> bool:
        """A filter beyond the folding is set."""
        return (STATUSES_BY_CHOICE.get(self.status) is not None or bool(self.style) or bool(self.product)
                or self.favorites_only)

    def history_filter(self) -> HistoryFilter:
        statuses = STATUSES_BY_CHOICE.get(self.status)
        return HistoryFilter(statuses=UNFOLDED if self.folded else statuses, style=self.style or None,
                             product=self.product or None, favorite=True if self.favorites_only else None)


def gallery_caption(ctx: StudioContext, job: Job) -> str:
    """The whole caption (the page clips it to the card and shows it all on hover), starred when a favourite."""
    return ("★ " if job.favorite else "") + caption(ctx.service.catalog, job, clip=None)


def page_label(page: int, shown: int, filters: FilterValues) -> str:
    if shown:
        folded = " · canceled and failed folded away" if filters.folded else ""
        return f"Page {page + 1} · newest first{folded}"
    if page > 0:
        return f"Page {page + 1} is empty — go back a page."
    if filters.narrowed:
        return "Nothing matches these filters."
    if filters.folded:
        return "No designs to show — canceled and failed ones are folded away (tick *Show canceled and failed*)."
    return "No designs yet — generate one on the Generate tab."


def details_html(ctx: StudioContext, job: Job) -> str:
    """The picked job in full: its whole caption, when it was made, its seed and any error. Escaped."""
    lines = [f'<div class="tg-history-caption">{html.escape(gallery_caption(ctx, job))}</div>']
    facts = [f"made {job.created_at:%Y-%m-%d %H:%M} UTC"]
    if job.seed is not None:
        facts.append(f"seed {job.seed}")
    facts.append(f"{job.width}×{job.height}")
    lines.append(f'<div class="tg-note">{html.escape(" · ".join(facts))}</div>')
    if job.error:
        lines.append(f'<div class="tg-note tg-failed">{html.escape(job.error)}</div>')
    return f'<div class="tg-history-selected" data-job="{html.escape(job.id)}">{"".join(lines)}</div>'


class HistoryHandlers:
    def __init__(self, ctx: StudioContext, history: HistoryComponents, generate: GenerateComponents,
                 tabs: gr.Tabs) -> None:
        self.ctx = ctx
        self.history = history
        self.generate = generate
        self.tabs = tabs

    # --- pages ------------------------------------------------------------------------------
    def _page(self, page: int, filters: FilterValues, request: gr.Request, keep: str | None = None) -> Updates:
        """A page through the filters; the job `keep` stays picked when it is still on it."""
        page = max(0, int(page or 0))
        jobs = self.ctx.service.history(self.ctx.user(request), filters.history_filter(), limit=PAGE_SIZE + 1,
                                        offset=page * PAGE_SIZE)
        more = len(jobs) > PAGE_SIZE
        jobs = jobs[:PAGE_SIZE]
        ids = [j.id for j in jobs]
        h = self.history
        kept = next((j for j in jobs if j.id == keep), None)
        user = self.ctx.user(request)
        published = self.ctx.publishing.published(user, ids) if self.ctx.publishing else {}
        in_store = {job_id: " · in the store" for job_id in published}
        items = [(self.ctx.files.thumbnail(j), gallery_caption(self.ctx, j) + in_store.get(j.id, "")) for j in jobs]
        return {
            h.gallery: gr.Gallery(value=items, selected_index=ids.index(kept.id) if kept else None),
            h.products: "".join(product_link_html(published[j.id]).replace('id="product-link" ', "")
                                for j in jobs if j.id in published),
            h.job_ids: ids,
            h.page: page,
            h.page_label: page_label(page, len(jobs), filters),
            h.previous: gr.Button(interactive=page > 0),
            h.next: gr.Button(interactive=more),
            **self._selection(kept),
        }

    def _selection(self, job: Job | None) -> Updates:
        h = self.history
        if job is None:
            return {h.selected_id: None, h.selected_info: f'<div class="tg-note">{NOTHING_PICKED}</div>',
                    h.open: gr.Button(interactive=False), h.favorite: gr.Button("☆ Favourite", interactive=False),
                    h.download: gr.DownloadButton(value=None, interactive=False),
                    h.delete: gr.Button(interactive=False, visible=True),
                    h.confirm_delete: gr.Button(visible=False), h.keep: gr.Button(visible=False)}
        design = self.ctx.files.design(job) if job.status is JobStatus.COMPLETED else None
        return {
            h.selected_id: job.id,
            h.selected_info: details_html(self.ctx, job),
            h.open: gr.Button(interactive=True),
            h.favorite: gr.Button("★ Favourite" if job.favorite else "☆ Favourite", interactive=True),
            h.download: gr.DownloadButton(value=design, interactive=design is not None),
            h.delete: gr.Button(interactive=True, visible=True),
            h.confirm_delete: gr.Button(visible=False),
            h.keep: gr.Button(visible=False),
        }

    # Each page event takes the filters' values in HistoryComponents.filters order.
    @readable_errors
    def show_page(self, page: int, status: str, style: str, product: str, favorites_only: bool, show_folded: bool,
                  request: gr.Request) -> Updates:
        return self._page(page, FilterValues(status, style, product, favorites_only, show_folded), request)

    def first_page(self, status: str, style: str, product: str, favorites_only: bool, show_folded: bool,
                   request: gr.Request) -> Updates:
        return self.show_page(0, status, style, product, favorites_only, show_folded, request)

    def newer_page(self, page: int, status: str, style: str, product: str, favorites_only: bool, show_folded: bool,
                   request: gr.Request) -> Updates:
        return self.show_page(page - 1, status, style, product, favorites_only, show_folded, request)

    def older_page(self, page: int, status: str, style: str, product: str, favorites_only: bool, show_folded: bool,
                   request: gr.Request) -> Updates:
        return self.show_page(page + 1, status, style, product, favorites_only, show_folded, request)

    # --- the picked design ----------------------------------------------------------------------
    @readable_errors
    def pick(self, job_ids: list[str], event: gr.SelectData, request: gr.Request) -> Updates:
        if not event.selected or event.index is None or event.index >= len(job_ids):
            return self._selection(None)
        return self._selection(self.ctx.service.owned_job(self.ctx.user(request), job_ids[event.index]))

    @readable_errors
    def toggle_favorite(self, selected_id: str | None, page: int, status: str, style: str, product: str,
                        favorites_only: bool, show_folded: bool, request: gr.Request) -> Updates:
        if not selected_id:
            raise gr.Error("Pick a design first.", print_exception=False)
        user = self.ctx.user(request)
        job = self.ctx.service.owned_job(user, selected_id)
        self.ctx.service.set_favorite(user, job.id, not job.favorite)
        filters = FilterValues(status, style, product, favorites_only, show_folded)
        return self._page(page, filters, request, keep=job.id)

    @readable_errors
    def ask_delete(self, selected_id: str | None, request: gr.Request) -> Updates:
        """Ask once more before deleting the caller's picked job."""
        if not selected_id:
            raise gr.Error("Pick a design first.", print_exception=False)
        self.ctx.service.owned_job(self.ctx.user(request), selected_id)
        h = self.history
        return {h.delete: gr.Button(visible=False), h.confirm_delete: gr.Button(visible=True),
                h.keep: gr.Button(visible=True)}

    def keep_design(self) -> Updates:
        h = self.history
        return {h.delete: gr.Button(visible=True), h.confirm_delete: gr.Button(visible=False),
                h.keep: gr.Button(visible=False)}

    @readable_errors
    def delete(self, selected_id: str | None, page: int, status: str, style: str, product: str,
               favorites_only: bool, show_folded: bool, request: gr.Request) -> Updates:
        """Delete the picked job (its images in storage, then the job); a running one is refused
        with the reason. The page is shown again without it."""
        if not selected_id:
            raise gr.Error("Pick a design first.", print_exception=False)
        self.ctx.service.delete_job(self.ctx.user(request), selected_id)
        self.ctx.files.forget(selected_id)
        gr.Info("Design deleted.")
        return self._page(page, FilterValues(status, style, product, favorites_only, show_folded), request)

    @readable_errors
    def restore(self, selected_id: str | None, shown: ShownJobs | None, source: BriefSource | None,
                request: gr.Request) -> Updates:
        """The picked job on the Generate tab: its settings and brief in the form, its design
        on show on its own (no batch), and the follow-up actions it allows."""
        if not selected_id:
            raise gr.Error("Pick a design first.", print_exception=False)
        user = self.ctx.user(request)
        checked(shown, user)  # the Generate tab's session state is the caller's to overwrite
        checked(source, user)
        job = self.ctx.service.owned_job(user, selected_id)
        g = self.generate
        return {
            **g.fill_settings(settings_values(job), user),
            **g.show_job(job_display(self.ctx.files, job), ShownJobs(user, (job.id,), job.id)),
            g.batch: gr.Gallery(value=[], visible=False),
            **g.show_actions(actions_for(job)),
            self.tabs: gr.Tabs(selected="generate"),
        }
