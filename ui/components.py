"""The studio's components by name, one registry per tab: what the tab modules lay out, what
the handlers update, and what other tabs fill (a History restore fills the Generate form).

Handlers return `{component: update}` dicts; a component left out keeps its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.blocks import Block

from ui.job_views import BriefValues, JobActions, JobDisplay, JobSettings
from ui.session_state import BriefSource, ShownJobs, brief_fingerprint

Updates = dict[Block, Any]


@dataclass
class GenerateComponents:
    prompt: gr.Textbox
    idea_note: gr.HTML  # under the idea: why it was refused, and the characters used of the limit
    style: gr.Radio
    product: gr.Radio
    product_info: gr.Markdown
    seed: gr.Number
    random_seed: gr.Checkbox
    steps: gr.Slider
    negative_prompt: gr.Textbox
    images: gr.Slider
    generate: gr.Button
    brief: gr.Accordion
    subject: gr.Textbox
    colors: gr.Textbox
    mood: gr.Textbox
    composition: gr.Textbox
    final_prompt: gr.Textbox
    final_negative: gr.Textbox
    status: gr.HTML
    result: gr.Image
    mockup: gr.Image
    download: gr.DownloadButton
    batch: gr.Gallery  # the result grid: a batch and its variations side by side
    variation: gr.Button
    reuse: gr.Button
    retry: gr.Button
    jobs: gr.State  # ShownJobs: the grid's jobs and the one on show (cancel, variation, reuse, retry)
    brief_source: gr.State  # BriefSource: what the brief fields were parsed from

    # --- groups, as event inputs and outputs -----------------------------------------------
    @property
    def brief_fields(self) -> list[Block]:
        return [self.subject, self.colors, self.mood, self.composition, self.final_prompt, self.final_negative]

    @property
    def settings(self) -> list[Block]:
        """What "reuse settings" and a history restore fill in."""
        return [self.prompt, self.style, self.product, self.seed, self.random_seed, self.steps,
                self.negative_prompt, self.images, *self.brief_fields, self.brief, self.brief_source]

    @property
    def brief_source_fields(self) -> list[Block]:
        """What a brief is parsed from: its fingerprint covers these."""
        return [self.prompt, self.style, self.product, self.negative_prompt]

    @property
    def generate_inputs(self) -> list[Block]:
        """What Generate reads, in the order of the API's /generate parameters (the session's
        states last: API callers do not send them)."""
        return [self.prompt, self.style, self.product, self.seed, self.random_seed, self.steps, self.negative_prompt,
                self.images, *self.brief_fields, self.jobs, self.brief_source]

    @property
    def shown(self) -> list[Block]:
        """What a streaming job updates; the API's /generate returns the visible ones in this order."""
        return [self.status, self.result, self.mockup, self.download, self.batch, self.jobs]

    @property
    def actions(self) -> list[Block]:
        return [self.variation, self.reuse, self.retry]

    # --- updates ------------------------------------------------------------------------------
    def fill_brief(self, brief: BriefValues) -> Updates:
        return {self.subject: brief.subject, self.colors: brief.colors, self.mood: brief.mood,
                self.composition: brief.composition, self.final_prompt: brief.final_prompt,
                self.final_negative: brief.final_negative}

    def fill_settings(self, settings: JobSettings, user: str) -> Updates:
        """The form filled from a job; its brief is marked as made from exactly this form."""
        source = brief_fingerprint(settings.prompt, settings.style, settings.product, settings.negative_prompt)
        return {
            self.brief_source: BriefSource(user, source),
            self.prompt: settings.prompt, self.style: settings.style, self.product: settings.product,
            self.seed: settings.seed, self.random_seed: settings.random_seed, self.steps: settings.steps,
            self.negative_prompt: settings.negative_prompt, self.images: settings.images,
            **self.fill_brief(BriefValues(settings.subject, settings.colors, settings.mood, settings.composition,
                                          settings.final_prompt, settings.final_negative)),
            self.brief: settings.brief_panel,
        }

    def show_design(self, design: str, mockup: str) -> Updates:
        return {self.result: design, self.mockup: mockup, self.download: gr.DownloadButton(value=design, visible=True)}

    def show_job(self, display: JobDisplay, jobs: ShownJobs) -> Updates:
        """One finished job in the main panes: its status card, and its design once it completed."""
        if display.design is None or display.mockup is None:
            shown: Updates = {self.result: None, self.mockup: None, self.download: gr.DownloadButton(visible=False)}
        else:
            shown = self.show_design(display.design, display.mockup)
        return {self.status: display.status, **shown, self.jobs: jobs}

    def show_actions(self, actions: JobActions) -> Updates:
        return {self.variation: gr.Button(visible=actions.variation), self.reuse: gr.Button(visible=actions.reuse),
                self.retry: gr.Button(visible=actions.retry)}


@dataclass
class HistoryComponents:
    status_filter: gr.Dropdown
    style_filter: gr.Dropdown
    product_filter: gr.Dropdown
    favorites_only: gr.Checkbox
    show_folded: gr.Checkbox  # canceled and failed jobs are folded away unless this is ticked
    gallery: gr.Gallery
    page_label: gr.Markdown
    previous: gr.Button
    next: gr.Button
    refresh: gr.Button
    selected_info: gr.HTML
    open: gr.Button  # the selected job on the Generate tab (the restore)
    favorite: gr.Button
    download: gr.DownloadButton
    delete: gr.Button
    confirm_delete: gr.Button
    keep: gr.Button
    page: gr.State  # the page on show, counted from 0
    job_ids: gr.State  # the jobs in the gallery, in its order
    selected_id: gr.State  # the job picked in the gallery, or None
    products: gr.HTML  # links to the store products of the page's published jobs

    @property
    def filters(self) -> list[Block]:
        return [self.status_filter, self.style_filter, self.product_filter, self.favorites_only, self.show_folded]

    @property
    def page_outputs(self) -> list[Block]:
        return [self.gallery, self.job_ids, self.page, self.page_label, self.previous, self.next, self.products]

    @property
    def selection_outputs(self) -> list[Block]:
        return [self.selected_id, self.selected_info, self.open, self.favorite, self.download, self.delete,
                self.confirm_delete, self.keep]


@dataclass
class AdminComponents:
    window: gr.Radio
    refresh: gr.Button
    figures: gr.HTML
    per_day: gr.BarPlot
    by_style: gr.BarPlot
    by_product: gr.BarPlot
    storage: gr.HTML
    failures: gr.Dataframe
    failures_note: gr.HTML  # "no failures", shown instead of an empty table

    @property
    def report(self) -> list[Block]:
        return [self.figures, self.per_day, self.by_style, self.by_product, self.storage, self.failures,
                self.failures_note]


@dataclass
class PrintComponents:
    """The Print panel in the Generate tab's result column (ui.print_panel)."""

    make_print: gr.Button
    checklist: gr.HTML  # the print file's preflight checks: pass, fixed or fail
    print_download: gr.DownloadButton
    on_light: gr.Image  # the print file over a light garment
    on_dark: gr.Image  # and over a dark one
    vector_colors: gr.Slider
    make_svg: gr.Button
    svg_preview: gr.Image
    svg_download: gr.DownloadButton

    @property
    def print_outputs(self) -> list[Block]:
        return [self.checklist, self.print_download, self.on_light, self.on_dark]

    @property
    def svg_outputs(self) -> list[Block]:
        return [self.vector_colors, self.svg_preview, self.svg_download]

    @property
    def outputs(self) -> list[Block]:
        return [*self.print_outputs, *self.svg_outputs]


@dataclass
class PublishComponents:
    """The Publish section under the result: variants, price, official mockups, the store product."""

    panel: gr.Accordion
    note: gr.Markdown  # why publishing is off, or what to do next
    colors: gr.CheckboxGroup
    sizes: gr.CheckboxGroup
    price: gr.Textbox
    mockups: gr.Button
    mockup_status: gr.HTML
    mockup_images: gr.Gallery
    publish: gr.Button
    product: gr.HTML  # the link to the store product once published

    @property
    def form(self) -> list[Block]:
        return [self.note, self.colors, self.sizes, self.price, self.mockups, self.publish, self.product,
                self.mockup_status, self.mockup_images]
