"""What the Publish section's events do: offer the design's variants (colours × sizes) and a
retail price, queue Printful's official mockups and show them when ready, publish to the store.

Thin over PublishingService (core.publishing), which checks ownership, completion, preflight
and reachability for every door; here a refusal becomes a message on the page.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import anyio
import gradio as gr

from core.errors import TenkaiGenError
from core.jobs import JobStatus
from core.publishing.store import MockupTask, StoreProduct
from core.publishing.variants import ProductVariants
from ui.components import PublishComponents, Updates
from ui.context import StudioContext
from ui.errors import readable_errors
from ui.session_state import ShownJobs, checked

MOCKUP_WAIT_S = 600.0  # the section stops watching after this; GET .../mockups still answers


def product_link_html(product: StoreProduct) -> str:
    url = html.escape(product.product_url or "", quote=True)
    return (f'<p class="tg-product">In your Printful store: <a id="product-link" href="{url}" target="_blank" '
            f'rel="noopener">{html.escape(product.name)} (product {product.sync_product_id})</a> · '
            f'{len(product.variant_ids)} variant(s) at {html.escape(product.retail_price)}</p>')


def mockup_status_html(task: MockupTask | None, waited_s: float = 0.0) -> str:
    if task is None:
        return ""
    if task.status == "failed":
        return f'<p class="tg-field-error" role="alert">{html.escape(task.error or "Printful could not make the mockups")}</p>'
    if task.status == "completed":
        return '<p class="tg-done">Official mockups from Printful.</p>'
    where = "waiting for a slot at Printful" if task.status == "queued" else "Printful is making them"
    return f'<p class="tg-waiting" data-status="{task.status}">Official mockups: {where}… ({waited_s:.0f} s)</p>'


class PublishHandlers:
    def __init__(self, ctx: StudioContext, components: PublishComponents) -> None:
        self.ctx = ctx
        self.c = components

    # --- which job, and what it may be published with -----------------------------------------
    def _current(self, shown: ShownJobs | None, user: str) -> str | None:
        held = checked(shown, user)
        return held.current if held is not None else None

    @readable_errors
    def show_for_job(self, shown: ShownJobs | None, request: gr.Request) -> Updates:
        """The section for the design on show: its variants, a price, its store product if any
        (hidden without a Printful token; with one, it says why publishing is off, if it is)."""
        c, publishing = self.c, self.ctx.publishing
        user = self.ctx.user(request)
        job_id = self._current(shown, user)
        hidden: Updates = {c.panel: gr.Accordion(visible=False)}
        if job_id is None:
            return hidden
        job = self.ctx.service.owned_job(user, job_id)
        if publishing is None or publishing.printful is None or job.status is not JobStatus.COMPLETED:
            return hidden
        blank: Updates = {c.panel: gr.Accordion(visible=True), c.mockup_status: "", c.mockup_images: gr.Gallery(value=[], visible=False)}
        reason = publishing.unavailable_reason()
        try:
            if reason is not None:
                raise TenkaiGenError(reason)
            offered = publishing.variants_for(user, job_id)
        except TenkaiGenError as exc:
            return {**blank, **self._off(str(exc))}
        published = publishing.published(user, [job_id]).get(job_id)
        defaults = self._defaults(offered)
        return {
            **blank,
            c.note: "Pick colours and sizes, a retail price, then see Printful's own mockups or publish.",
            c.colors: gr.CheckboxGroup(choices=offered.colors, value=[defaults[0]] if defaults[0] else [], interactive=True),
            c.sizes: gr.CheckboxGroup(choices=offered.sizes, value=[defaults[1]] if defaults[1] else [], interactive=True),
            c.price: gr.Textbox(value=offered.suggested_retail_price(offered.matching([defaults[0]], [defaults[1]])),
                                interactive=True),
            c.mockups: gr.Button(interactive=True), c.publish: gr.Button(interactive=True),
            c.product: product_link_html(published) if published else "",
        }

    def _off(self, reason: str) -> Updates:
        c = self.c
        return {c.note: f"Publishing is off: {reason}", c.colors: gr.CheckboxGroup(choices=[], value=[], interactive=False),
                c.sizes: gr.CheckboxGroup(choices=[], value=[], interactive=False), c.price: gr.Textbox(interactive=False),
                c.mockups: gr.Button(interactive=False), c.publish: gr.Button(interactive=False), c.product: ""}

    @staticmethod
    def _defaults(offered: ProductVariants) -> tuple[str | None, str | None]:
        by_id = offered.by_id()
        first = by_id.get(offered.default_variant_id or -1) or offered.variants[0]
        return first.color or None, first.size or None

    def _picked(self, user: str, job_id: str, colors: list[str] | None, sizes: list[str] | None) -> list[int]:
        assert self.ctx.publishing is not None
        offered = self.ctx.publishing.variants_for(user, job_id)
        ids = offered.matching(colors or [], sizes or [])
        if not ids:
            raise gr.Error("Pick at least one colour and one size that Printful offers together.")
        return ids

    def _job_for(self, shown: ShownJobs | None, request: gr.Request) -> tuple[str, str]:
        if self.ctx.publishing is None:
            raise gr.Error("Publishing is off in this studio.")
        user = self.ctx.user(request)
        job_id = self._current(shown, user)
        if job_id is None:
            raise gr.Error("Generate a design first.")
        return user, job_id

    # --- official mockups ------------------------------------------------------------------------
    @readable_errors
    async def official_mockups(self, shown: ShownJobs | None, colors: list[str] | None, sizes: list[str] | None,
                               request: gr.Request) -> AsyncIterator[Updates]:
        """Queue Printful's mockups of the design on the picked variants; the images once ready."""
        c, publishing = self.c, self.ctx.publishing
        user, job_id = self._job_for(shown, request)
        assert publishing is not None
        variant_ids = await anyio.to_thread.run_sync(self._picked, user, job_id, colors, sizes)
        task = await anyio.to_thread.run_sync(publishing.request_mockups, user, job_id, variant_ids)
        started = anyio.current_time()
        while True:
            waited = anyio.current_time() - started
            if task.status == "completed":
                yield {c.mockup_status: mockup_status_html(task),
                       c.mockup_images: gr.Gallery(value=[m.url for m in task.mockups], visible=True)}
                return
            yield {c.mockup_status: mockup_status_html(task, waited)}
            if task.status == "failed" or waited > MOCKUP_WAIT_S:
                return
            await anyio.sleep(self.ctx.poll_interval_s)
            latest = await anyio.to_thread.run_sync(publishing.mockups, user, job_id)
            task = latest or task

    # --- publishing ------------------------------------------------------------------------------
    @readable_errors
    def publish(self, shown: ShownJobs | None, colors: list[str] | None, sizes: list[str] | None, price: str,
                request: gr.Request) -> Updates:
        user, job_id = self._job_for(shown, request)
        assert self.ctx.publishing is not None
        product = self.ctx.publishing.publish(user, job_id, self._picked(user, job_id, colors, sizes), price)
        gr.Info("Published to your Printful store.")
        return {self.c.product: product_link_html(product)}
