"""The Admin tab: job figures for a window, storage used and its monthly cost on B2 and R2,
the GPU time the images took and its cost, and the latest failures. Shown to callers with the admin role only; DashboardService checks
the role again, since a hidden tab's events can still be called.

This module lays the components out and wires their events; what the events do is
ui.admin_handlers.AdminHandlers.
"""

from __future__ import annotations

import gradio as gr

from core.ops.dashboard import WINDOWS
from ui.admin_handlers import CANCELED_OR_IN_FLIGHT, DEFAULT_WINDOW, NO_FAILURES, PER_DAY_CAPTION, AdminHandlers
from ui.components import AdminComponents
from ui.context import StudioContext

FAILURE_HEADERS = ["When (UTC)", "Job", "Style", "Product", "Error"]


# --- building the tab ---------------------------------------------------------------------
def create_admin_tab(ctx: StudioContext, tab: gr.Tab) -> AdminComponents:
    with gr.Row():
        window = gr.Radio(list(WINDOWS), value=DEFAULT_WINDOW, label="Window", elem_id="admin-window", scale=3)
        refresh = gr.Button("Refresh", size="sm", elem_id="admin-refresh", scale=1)
    figures = gr.HTML(elem_id="admin-figures")
    per_day = gr.BarPlot(x="day", y="jobs", color="outcome", title="Jobs per day (UTC)", height=280, sort="x",
                         x_label_angle=-45, y_lim=[0, None], elem_id="admin-per-day",
                         color_map={"completed": "#2e8b57", "failed": "#c0392b", CANCELED_OR_IN_FLIGHT: "#9d94b8"})
    gr.HTML(f'<p class="tg-note">{PER_DAY_CAPTION}</p>', elem_id="admin-per-day-note")
    # up to twelve styles and eight products share half a row each: their names are slanted so
    # they never run into each other
    with gr.Row():
        by_style = gr.BarPlot(x="style", y="jobs", title="Jobs by style", height=320, elem_id="admin-by-style",
                              sort="-y", y_lim=[0, None], x_label_angle=-35, x_title=" ")
        by_product = gr.BarPlot(x="product", y="jobs", title="Jobs by product", height=320,
                                elem_id="admin-by-product", sort="-y", y_lim=[0, None], x_label_angle=-35,
                                x_title=" ")
    gr.Markdown("### Storage and GPU")
    storage = gr.HTML(elem_id="admin-storage")
    gr.Markdown("### Latest failures")
    failures = gr.Dataframe(headers=FAILURE_HEADERS, datatype=["str"] * 5, interactive=False, wrap=True,
                            elem_id="admin-failures")
    failures_note = gr.HTML(f'<p class="tg-note">{NO_FAILURES}</p>', visible=False, elem_id="admin-no-failures")
    admin = AdminComponents(window=window, refresh=refresh, figures=figures, per_day=per_day, by_style=by_style,
                            by_product=by_product, storage=storage, failures=failures, failures_note=failures_note)
    handlers = AdminHandlers(ctx, admin)
    for trigger in (tab.select, window.change, refresh.click):
        trigger(handlers.show_report, window, admin.report, api_visibility="private")
    return admin
