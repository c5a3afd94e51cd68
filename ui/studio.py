"""The studio: Generate, History and Admin tabs over the core services.

`create_ui` builds the page (one module per tab); app.py mounts it with `studio_theme()`
and `studio_css()` (ui.theme). Nothing here touches a database or a bucket directly.
"""

from __future__ import annotations

import html

import gradio as gr

from ui.admin_tab import create_admin_tab
from ui.context import StudioContext
from ui.generate_tab import create_generate_tab
from ui.history_tab import create_history_tab

# Each event without its own limit (parse, cancel, history pages, admin figures) runs at
# most 8 calls at a time, in Gradio's worker threads (40): short database reads, so 8 keep
# them prompt while a burst of one kind cannot take every thread from the others. The job
# streams have their own, larger limit (generate_tab.STREAM_CONCURRENCY) because they spend
# their time awaiting between status reads, not working. (Gradio's default would be 1.)
DEFAULT_CONCURRENCY = 8


def create_ui(ctx: StudioContext) -> gr.Blocks:
    # Gradio copies every file it serves into its cache; drop copies older than a day, hourly
    with gr.Blocks(title="TenkaiGen studio", delete_cache=(3600, 86400)) as studio:
        gr.Markdown(
            f"# TenkaiGen\nDesign generator for print-on-demand merch · generator: "
            f"**{html.escape(ctx.generator_label)}**",
            elem_id="header",
        )
        with gr.Tabs(selected="generate", elem_id="tabs") as tabs:
            with gr.Tab("Generate", id="generate", elem_id="tab-generate"):
                generate = create_generate_tab(ctx)
            with gr.Tab("History", id="history", elem_id="tab-history") as history_tab:
                create_history_tab(ctx, generate, tabs, history_tab)
            with gr.Tab("Admin", id="admin", elem_id="tab-admin", visible=False) as admin_tab:
                create_admin_tab(ctx, admin_tab)

        def admin_visibility(request: gr.Request) -> gr.Tab:
            return gr.Tab(visible=ctx.identity(request).is_admin)

        studio.load(admin_visibility, None, admin_tab, api_visibility="private")
    studio.queue(default_concurrency_limit=DEFAULT_CONCURRENCY)
    return studio
