"""The History tab: the user's own jobs as a gallery filling the page, newest first, a page at
a time, through filters (status, style, product, favourites; canceled and failed folded away
unless asked for). Picking one shows its whole caption and lets the user open it on the
Generate tab (its brief and image restored), favourite, download or delete it.

This module lays the components out and wires their events; what the events do is
ui.history_handlers.HistoryHandlers.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.components import GenerateComponents, HistoryComponents
from ui.context import StudioContext
from ui.history_handlers import ANY, NOTHING_PICKED, STATUS_CHOICES, HistoryHandlers

PRIVATE: dict[str, Any] = {"api_visibility": "private"}

# six designs a row, as tall as most of the window: at 1440×900 two rows and more show whole
# below the filters, and a page (three rows) scrolls inside the gallery
GALLERY_COLUMNS = 6
GALLERY_HEIGHT = "60vh"


def create_history_tab(ctx: StudioContext, generate: GenerateComponents, tabs: gr.Tabs,
                       tab: gr.Tab) -> HistoryComponents:
    catalog = ctx.service.catalog
    with gr.Row(equal_height=True, elem_id="history-filters"):
        status_filter = gr.Dropdown(STATUS_CHOICES, value="any", label="Status", elem_id="history-status", scale=2)
        style_filter = gr.Dropdown([("Any style", ANY), *((s.name, s.id) for s in catalog.styles.values())],
                                   value=ANY, label="Style", elem_id="history-style", scale=2)
        product_filter = gr.Dropdown([("Any product", ANY), *((p.name, p.id) for p in catalog.products.values())],
                                     value=ANY, label="Product", elem_id="history-product", scale=2)
        with gr.Column(scale=2, min_width=200):
            favorites_only = gr.Checkbox(label="★ Favourites only", elem_id="history-favorites-only")
            show_folded = gr.Checkbox(label="Show canceled and failed", elem_id="history-show-folded")
    with gr.Row(equal_height=True, elem_id="history-paging"):
        previous = gr.Button("← Newer", size="sm", interactive=False, elem_id="history-previous", min_width=90,
                             scale=0)
        page_label = gr.Markdown("", elem_id="history-page")
        following = gr.Button("Older →", size="sm", interactive=False, elem_id="history-next", min_width=90, scale=0)
        refresh = gr.Button("Refresh", size="sm", elem_id="history-refresh", min_width=90, scale=0)
    with gr.Row(elem_id="history-actions"):
        selected_info = gr.HTML(f'<div class="tg-note">{NOTHING_PICKED}</div>', elem_id="history-selected", scale=3)
        with gr.Row(scale=2, elem_classes="tg-history-buttons"):
            open_button = gr.Button("Open in Generate", size="sm", interactive=False, elem_id="history-open",
                                    min_width=120)
            favorite = gr.Button("☆ Favourite", size="sm", interactive=False, elem_id="history-favorite",
                                 min_width=100)
            download = gr.DownloadButton("Download PNG", size="sm", interactive=False, elem_id="history-download",
                                         min_width=120)
            delete = gr.Button("Delete", size="sm", variant="stop", interactive=False, elem_id="history-delete",
                               min_width=80)
            confirm_delete = gr.Button("Delete for good", size="sm", variant="stop", visible=False,
                                       elem_id="history-delete-confirm", min_width=120)
            keep = gr.Button("Keep it", size="sm", visible=False, elem_id="history-delete-keep", min_width=80)
    gallery = gr.Gallery(label="Your designs", show_label=False, columns=GALLERY_COLUMNS, height=GALLERY_HEIGHT,
                         allow_preview=False, object_fit="contain", elem_id="history-gallery")
    products = gr.HTML("", elem_id="history-products", padding=False)
    history = HistoryComponents(
        status_filter=status_filter, style_filter=style_filter, product_filter=product_filter,
        favorites_only=favorites_only, show_folded=show_folded, gallery=gallery, page_label=page_label,
        previous=previous, next=following, refresh=refresh, selected_info=selected_info, open=open_button,
        favorite=favorite, download=download, delete=delete, confirm_delete=confirm_delete, keep=keep,
        page=gr.State(0), job_ids=gr.State([]), selected_id=gr.State(None), products=products,
    )
    _wire(history, HistoryHandlers(ctx, history, generate, tabs), generate, tabs, tab)
    return history


def _wire(h: HistoryComponents, handlers: HistoryHandlers, generate: GenerateComponents, tabs: gr.Tabs,
          tab: gr.Tab) -> None:
    shown = [*h.page_outputs, *h.selection_outputs]
    tab.select(handlers.first_page, h.filters, shown, **PRIVATE)
    for control in h.filters:
        control.input(handlers.first_page, h.filters, shown, **PRIVATE)
    h.refresh.click(handlers.show_page, [h.page, *h.filters], shown, **PRIVATE)
    h.previous.click(handlers.newer_page, [h.page, *h.filters], shown, **PRIVATE)
    h.next.click(handlers.older_page, [h.page, *h.filters], shown, **PRIVATE)
    h.gallery.select(handlers.pick, h.job_ids, h.selection_outputs, **PRIVATE)
    h.favorite.click(handlers.toggle_favorite, [h.selected_id, h.page, *h.filters], shown, **PRIVATE)
    h.delete.click(handlers.ask_delete, h.selected_id, [h.delete, h.confirm_delete, h.keep], **PRIVATE)
    h.keep.click(handlers.keep_design, None, [h.delete, h.confirm_delete, h.keep], **PRIVATE)
    h.confirm_delete.click(handlers.delete, [h.selected_id, h.page, *h.filters], shown, **PRIVATE)
    h.open.click(handlers.restore, [h.selected_id, generate.jobs, generate.brief_source],
                 [*generate.settings, *generate.shown, *generate.actions, tabs], **PRIVATE)
