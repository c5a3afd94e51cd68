"""The History tab: the user's own jobs, newest first, a page at a time; picking one
restores its brief and image on the Generate tab.

This module lays the components out and wires their events; what the events do is
ui.history_handlers.HistoryHandlers.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.components import GenerateComponents, HistoryComponents
from ui.context import StudioContext
from ui.history_handlers import HistoryHandlers

PRIVATE: dict[str, Any] = {"api_visibility": "private"}


def create_history_tab(ctx: StudioContext, generate: GenerateComponents, tabs: gr.Tabs,
                       tab: gr.Tab) -> HistoryComponents:
    with gr.Row():
        previous = gr.Button("← Newer", size="sm", interactive=False, elem_id="history-previous")
        page_label = gr.Markdown("", elem_id="history-page")
        following = gr.Button("Older →", size="sm", interactive=False, elem_id="history-next")
        refresh = gr.Button("Refresh", size="sm", elem_id="history-refresh")
    gallery = gr.Gallery(label="Your designs", columns=4, height="auto", allow_preview=False, object_fit="contain",
                         elem_id="history-gallery")
    products = gr.HTML("", elem_id="history-products", padding=False)
    history = HistoryComponents(gallery=gallery, page_label=page_label, previous=previous, next=following,
                                refresh=refresh, page=gr.State(0), job_ids=gr.State([]), products=products)
    _wire(history, HistoryHandlers(ctx, history, generate, tabs), generate, tabs, tab)
    return history


def _wire(h: HistoryComponents, handlers: HistoryHandlers, generate: GenerateComponents, tabs: gr.Tabs,
          tab: gr.Tab) -> None:
    tab.select(handlers.first_page, None, h.page_outputs, **PRIVATE)
    h.refresh.click(handlers.show_page, h.page, h.page_outputs, **PRIVATE)
    h.previous.click(handlers.newer_page, h.page, h.page_outputs, **PRIVATE)
    h.next.click(handlers.older_page, h.page, h.page_outputs, **PRIVATE)
    h.gallery.select(handlers.restore, [h.job_ids, generate.jobs, generate.brief_source],
                     [*generate.settings, *generate.shown, *generate.actions, tabs], **PRIVATE)
