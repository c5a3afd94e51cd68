"""What the Admin tab's event does: the dashboard report for a window, as figures, charts and
the latest failures. DashboardService checks the admin role; every value shown is escaped."""

from __future__ import annotations

import html

import gradio as gr
import pandas as pd

from core.ops.costs import B2_STORAGE_USD_PER_GB_MONTH, R2_STORAGE_USD_PER_GB_MONTH, R2_USD_PER_MILLION_WRITES
from core.ops.dashboard import WINDOWS, DashboardReport
from ui.components import AdminComponents, Updates
from ui.context import StudioContext
from ui.errors import readable_errors

DEFAULT_WINDOW = "7 d"


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
            f"completed in the last 30 days), each downloaded once. List prices: B2 "
            f"${B2_STORAGE_USD_PER_GB_MONTH}/GB-month with egress free up to 3× storage; R2 "
            f"${R2_STORAGE_USD_PER_GB_MONTH}/GB-month, ${R2_USD_PER_MILLION_WRITES} per million writes, free egress.")
    return f'<div class="tg-tiles">{"".join(tiles)}</div><p class="tg-note">{html.escape(note)}</p>'


def seconds_text(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} s"


def gpu_html(report: DashboardReport) -> str:
    """GPU time and what it cost: per completed image (window), the window, the last 30 days, and
    the failed and canceled work among them."""
    window, month = report.gpu_window, report.gpu_month
    if window is None or month is None:
        return ""
    per_image = window.usd_per_image
    tiles = [
        tile("gpu-per-image", seconds_text(window.seconds_per_image), "GPU per image"),
        tile("gpu-usd-per-image", "–" if per_image is None else usd(per_image), "GPU cost per image"),
        tile("gpu-window", usd(window.total_usd), "GPU in this window"),
        tile("gpu-month", usd(month.total_usd), "GPU, last 30 days"),
        tile("gpu-wasted", usd(window.usd(window.wasted_seconds)), "failed + canceled work"),
    ]
    note = (f"GPU time the workers reported: {window.completed.measured:,} measured images "
            f"({seconds_text(window.completed.gpu_seconds)} generating, {seconds_text(window.completed.cold_start_seconds)} "
            f"cold starts), failed work {seconds_text(window.failed.total_seconds)}, canceled work "
            f"{seconds_text(window.canceled.total_seconds)}; at ${window.usd_per_hour:g} per GPU-hour "
            "(TENKAIGEN_GPU_USD_PER_HOUR).")
    return f'<div class="tg-tiles">{"".join(tiles)}</div><p class="tg-note">{html.escape(note)}</p>'


# the third part of a day's bar: every job neither completed nor failed
CANCELED_OR_IN_FLIGHT = "canceled or in flight"
PER_DAY_CAPTION = (f"Each bar is one UTC day's jobs: completed, failed, and {CANCELED_OR_IN_FLIGHT} "
                   "(canceled by their user, or still pending or processing).")
NO_FAILURES = "No failures in this window."


def per_day_frame(report: DashboardReport) -> pd.DataFrame:
    """Long format for a stacked bar per day: completed + failed + canceled or in flight = total."""
    rows = [
        {"day": d.day.isoformat(), "jobs": count, "outcome": outcome}
        for d in report.stats.jobs_per_day
        for outcome, count in (("completed", d.completed), ("failed", d.failed),
                               (CANCELED_OR_IN_FLIGHT, d.total - d.completed - d.failed))
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


# --- the handler ------------------------------------------------------------------------------
class AdminHandlers:
    def __init__(self, ctx: StudioContext, components: AdminComponents) -> None:
        self.ctx = ctx
        self.c = components

    @readable_errors
    def show_report(self, window_label: str, request: gr.Request) -> Updates:
        window = WINDOWS.get(window_label, WINDOWS[DEFAULT_WINDOW])
        report = self.ctx.dashboard.report(self.ctx.identity(request), window)
        catalog, c = self.ctx.service.catalog, self.c
        return {
            c.figures: figures_html(report),
            c.per_day: per_day_frame(report),
            c.by_style: counts_frame(report.stats.by_style, {s.id: s.name for s in catalog.styles.values()}, "style"),
            c.by_product: counts_frame(report.stats.by_product, {p.id: p.name for p in catalog.products.values()},
                                       "product"),
            c.storage: storage_html(report) + gpu_html(report),
            **self._failures(failures_rows(report)),
        }

    def _failures(self, rows: list[list[str]]) -> Updates:
        """The table when there are failures; otherwise a line saying there are none."""
        return {self.c.failures: gr.Dataframe(value=rows, visible=bool(rows)),
                self.c.failures_note: gr.HTML(visible=not rows)}
