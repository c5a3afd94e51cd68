"""The Admin tab: job figures for a window, storage used and its monthly cost on B2 and R2,
and the latest failures. Shown to callers with the admin role only; DashboardService checks
the role again, since a hidden tab's events can still be called."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from core.ops.costs import B2_STORAGE_USD_PER_GB_MONTH, R2_STORAGE_USD_PER_GB_MONTH, R2_USD_PER_MILLION_WRITES
from core.ops.dashboard import WINDOWS, DashboardReport
from ui.context import StudioContext
from ui.errors import readable_errors

DEFAULT_WINDOW = "7 d"
FAILURE_HEADERS = ["When (UTC)", "Job", "Style", "Product", "Error"]


@dataclass
class AdminTab:
    window: gr.Radio
    figures: gr.HTML
    per_day: gr.BarPlot
    by_style: gr.BarPlot
    by_product: gr.BarPlot
    storage: gr.HTML
    failures: gr.Dataframe

    @property
    def outputs(self) -> list[gr.components.Component]:
        return [self.figures, self.per_day, self.by_style, self.by_product, self.storage, self.failures]


# --- what the handler computes --------------------------------------------------------------
def tile(key: str, value: str, label: str) -> str:
    return (f'<div class="tg-tile" data-figure="{html.escape(key)}"><span class="tg-value">{html.escape(value)}</span>'
            f'<span class="tg-label">{html.escape(label)}</span></div>')


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def figures_html(report: DashboardReport) -> str:
    s = report.stats
    rate = "–" if s.success_rate is None else f"{s.success_rate * 100:.1f}%"
    tiles = [
        tile("total", str(s.total), "jobs"), tile("completed", str(s.completed), "completed"),
        tile("failed", str(s.failed), "failed"), tile("success-rate", rate, "success rate"),
        tile("p50", _ms(s.p50_processing_ms), "p50 processing"), tile("p95", _ms(s.p95_processing_ms), "p95 processing"),
        tile("in-flight", str(s.in_flight), "in flight"), tile("canceled", str(s.canceled), "canceled"),
    ]
    return f'<div class="tg-tiles">{"".join(tiles)}</div>'


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def storage_html(report: DashboardReport) -> str:
    if report.usage is None or report.costs is None:
        return f'<div class="tg-note tg-failed">Storage could not be read: {html.escape(report.storage_error or "")}</div>'
    usage, costs = report.usage, report.costs
    cheaper = {"B2": "Backblaze B2 is cheaper", "R2": "Cloudflare R2 is cheaper", "same": "both cost the same"}[costs.cheaper]
    tiles = [
        tile("objects", f"{usage.objects:,}", "objects stored"), tile("bytes", human_bytes(usage.bytes), "stored"),
        tile("b2", usd(costs.b2_monthly_usd), "per month on B2"), tile("r2", usd(costs.r2_monthly_usd), "per month on R2"),
    ]
    note = (f"{cheaper}. Estimate for a month: what is stored now, {report.completed_last_30_days:,} uploads (images "
            f"completed in the last 30 days), each downloaded once. Prices from the setup guide: B2 "
            f"${B2_STORAGE_USD_PER_GB_MONTH}/GB-month with egress free up to 3× storage; R2 "
            f"${R2_STORAGE_USD_PER_GB_MONTH}/GB-month, ${R2_USD_PER_MILLION_WRITES} per million writes, free egress.")
    return f'<div class="tg-tiles">{"".join(tiles)}</div><p class="tg-note">{html.escape(note)}</p>'


def per_day_frame(report: DashboardReport) -> pd.DataFrame:
    """Long format for a stacked bar per day: completed + failed + other (canceled, in flight) = total."""
    rows = [
        {"day": d.day.isoformat(), "jobs": count, "outcome": outcome}
        for d in report.stats.jobs_per_day
        for outcome, count in (("completed", d.completed), ("failed", d.failed),
                               ("other", d.total - d.completed - d.failed))
    ]
    return pd.DataFrame(rows, columns=["day", "jobs", "outcome"])


def usd(value: float) -> str:
    if value == 0:
        return "$0.00"
    return "< $0.01" if value < 0.01 else f"${value:,.2f}"


def counts_frame(counts: dict[str, int], names: dict[str, str], column: str) -> pd.DataFrame:
    return pd.DataFrame([{column: names.get(key, key), "jobs": n} for key, n in counts.items()], columns=[column, "jobs"])


def failures_rows(report: DashboardReport) -> list[list[str]]:
    return [[f.created_at.strftime("%Y-%m-%d %H:%M"), f.job_id[:8], f.style, f.product, f.error or ""]
            for f in report.stats.recent_failures]


# --- building the tab ---------------------------------------------------------------------
def create_admin_tab(ctx: StudioContext, tab: gr.Tab) -> AdminTab:
    with gr.Row():
        window = gr.Radio(list(WINDOWS), value=DEFAULT_WINDOW, label="Window", elem_id="admin-window", scale=3)
        refresh = gr.Button("Refresh", size="sm", elem_id="admin-refresh", scale=1)
    figures = gr.HTML(elem_id="admin-figures")
    per_day = gr.BarPlot(x="day", y="jobs", color="outcome", title="Jobs per day (UTC)", height=280, sort="x",
                         x_label_angle=-45, y_lim=[0, None], elem_id="admin-per-day",
                         color_map={"completed": "#2e8b57", "failed": "#c0392b", "other": "#9d94b8"})
    with gr.Row():
        by_style = gr.BarPlot(x="style", y="jobs", title="Jobs by style", height=240, elem_id="admin-by-style",
                              sort="-y", y_lim=[0, None])
        by_product = gr.BarPlot(x="product", y="jobs", title="Jobs by product", height=240, elem_id="admin-by-product",
                                sort="-y", y_lim=[0, None])
    gr.Markdown("### Storage")
    storage = gr.HTML(elem_id="admin-storage")
    gr.Markdown("### Latest failures")
    failures = gr.Dataframe(headers=FAILURE_HEADERS, datatype=["str"] * 5, interactive=False, wrap=True,
                            elem_id="admin-failures")
    admin = AdminTab(window, figures, per_day, by_style, by_product, storage, failures)
    catalog = ctx.service.catalog

    @readable_errors
    def show_report(window_label: str, request: gr.Request) -> list[Any]:
        report = ctx.dashboard.report(ctx.identity(request), WINDOWS.get(window_label, WINDOWS[DEFAULT_WINDOW]))
        return [
            figures_html(report),
            per_day_frame(report),
            counts_frame(report.stats.by_style, {s.id: s.name for s in catalog.styles.values()}, "style"),
            counts_frame(report.stats.by_product, {p.id: p.name for p in catalog.products.values()}, "product"),
            storage_html(report),
            failures_rows(report),
        ]

    for trigger in (tab.select, window.change, refresh.click):
        trigger(show_report, window, admin.outputs, api_visibility="private")
    return admin
