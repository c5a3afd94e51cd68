"""What the Print panel's events do: make the design on show's print file (checklist, download,
the cutout on a light and a dark garment) and its SVG.

Thin over GenerationService.files (print_file, vector); the files are written for
Gradio by ui.files.StudioFiles. Each handler returns `{component: update}`; the session's shown
jobs name their owner, and another user's state is refused (ui.session_state.checked).
"""

from __future__ import annotations

import html

import anyio
import gradio as gr

from core.jobs import Job
from core.printing.stored import PreflightCheck, StoredPrintFile
from ui.components import PrintComponents, Updates
from ui.context import StudioContext
from ui.errors import readable_errors
from ui.session_state import ShownJobs, checked

CHECK_ICONS = {"pass": "✓", "fixed": "↻", "fail": "✗"}
NOTHING_YET = "Make the print file to see its checks: size, resolution, background and colour."
NO_DESIGN = "Generate a design first."


def checklist_html(stored: StoredPrintFile | None) -> str:
    """The print file's checks as a list, each with its icon and detail (all escaped); a hint
    before there is a print file."""
    if stored is None:
        return f'<div class="tg-checklist tg-empty">{html.escape(NOTHING_YET)}</div>'
    summary = (f"{stored.width}×{stored.height} px at {stored.dpi} dpi"
               + (" · background removed" if stored.background_removed else ""))
    rows = "".join(_check_row(check) for check in stored.preflight)
    failed = sum(check.status == "fail" for check in stored.preflight)
    verdict = (f"{failed} check{'s' if failed != 1 else ''} failed" if failed else "Ready to print")
    return (f'<div class="tg-checklist" data-failed="{failed}">'
            f'<p class="tg-verdict">{html.escape(verdict)} · {html.escape(summary)}</p>'
            f'<ul>{rows}</ul></div>')


def _check_row(check: PreflightCheck) -> str:
    status = check.status if check.status in CHECK_ICONS else "fail"
    return (f'<li class="tg-check" data-status="{status}">'
            f'<span class="tg-check-icon" aria-label="{status}">{CHECK_ICONS[status]}</span> '
            f'<strong>{html.escape(check.check)}</strong> — {html.escape(check.detail)}</li>')


class PrintHandlers:
    def __init__(self, ctx: StudioContext, components: PrintComponents) -> None:
        self.ctx = ctx
        self.c = components

    def cleared(self, vector_colors: int | None = None) -> Updates:
        """Nothing made yet (for another design): the checklist's hint, no files."""
        c = self.c
        return {c.checklist: checklist_html(None), c.print_download: gr.DownloadButton(value=None, visible=False),
                c.on_light: None, c.on_dark: None,
                c.vector_colors: vector_colors if vector_colors is not None else gr.skip(),
                c.svg_preview: gr.Image(value=None, visible=False),
                c.svg_download: gr.DownloadButton(value=None, visible=False)}

    @readable_errors
    def reset(self, shown: ShownJobs | None, request: gr.Request) -> Updates:
        """Another design on show: its panel starts empty, the SVG colours at its style's count."""
        user = self.ctx.user(request)
        held = checked(shown, user)
        if held is None or not held.current:
            return self.cleared()
        return self.cleared(self.ctx.service.files.vector_colors(user, held.current))

    @readable_errors
    async def make_print_file(self, shown: ShownJobs | None, request: gr.Request) -> Updates:
        job = self._current(shown, request)
        stored = await anyio.to_thread.run_sync(self.ctx.service.files.print_file, job.user_id, job.id)
        path = await anyio.to_thread.run_sync(self.ctx.files.print_file, job, stored)
        light, dark = await anyio.to_thread.run_sync(self.ctx.files.print_on_garments, job, stored)
        c = self.c
        return {c.checklist: checklist_html(stored), c.print_download: gr.DownloadButton(value=path, visible=True),
                c.on_light: light, c.on_dark: dark}

    @readable_errors
    async def make_svg(self, shown: ShownJobs | None, colors: float, request: gr.Request) -> Updates:
        job = self._current(shown, request)
        stored = await anyio.to_thread.run_sync(self.ctx.service.files.vector, job.user_id, job.id, int(colors))
        path = await anyio.to_thread.run_sync(self.ctx.files.vector_file, job, stored)
        c = self.c
        return {c.vector_colors: stored.colors, c.svg_preview: gr.Image(value=path, visible=True,
                                                                          label=f"SVG · {stored.colors} colours · {stored.paths} paths"),
                c.svg_download: gr.DownloadButton(value=path, visible=True)}

    def _current(self, shown: ShownJobs | None, request: gr.Request) -> Job:
        user = self.ctx.user(request)
        held = checked(shown, user)
        if held is None or not held.current:
            raise gr.Error(NO_DESIGN)
        return self.ctx.service.owned_job(user, held.current)
