"""PublishingService: a completed job's variants, official mockups and store product, with the
same ownership rules as every other read of a job (GenerationService.owned_job).

What may go to the store: the caller's own completed job (JobNotFound, JobNotReady), whose
product names a Printful product, whose print file passes preflight, stored where Printful can
fetch it, with Printful set up (NotPublishable), with variants of that product (InvalidRequest).
Printful unreachable or refusing is PublishingUnavailable, with Printful's reason and never the token.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from core.catalog import Product
from core.catalog.printful import PrintfulClient, PrintfulError
from core.errors import InvalidRequest, JobNotReady, NotPublishable, PublishingUnavailable
from core.jobs import Job, JobStatus
from core.jobs.service import GenerationService
from core.printing.stored import StoredPrintFile
from core.publishing.store import MockupTask, NewMockupTask, PublishingStore, StoreProduct, variant_key
from core.publishing.variants import ProductVariants, VariantCatalog

log = logging.getLogger(__name__)

# Printful's dashboard page of a product in a Manual order / API store
DASHBOARD_PRODUCT_URL = "https://www.printful.com/dashboard/sync/update?id={product_id}"
MAX_VARIANTS = 100  # Printful: a sync product has at most 100 sync variants
MAX_RETAIL_PRICE = Decimal("10000")
MAX_NAME_CHARS = 120
PUBLISH_LEASE_S = 120.0  # a reservation outlives the create call; a dead process's is taken over after it
PRICE_PATTERN = re.compile(r"^\d{1,5}(\.\d{1,2})?$")


def _print_file_passes(stored: StoredPrintFile) -> bool:
    """Hook for the print file's preflight (`StoredPrintFile.preflight`: checks with status
    pass | fixed | fail): a print file without a checklist passes."""
    return not _failed_checks(stored)


def _failed_checks(stored: StoredPrintFile) -> list[str]:
    checks = getattr(stored, "preflight", None) or []
    return [f"{getattr(c, 'check', '?')}: {getattr(c, 'detail', '')}".rstrip(": ")
            for c in checks if getattr(c, "status", None) == "fail"]


@dataclass(frozen=True)
class PublishingConfig:
    store_key: str  # whose rate window the mockup queue counts in (core.publishing.mockup_queue)
    request_timeout_s: float = 15.0


@dataclass(frozen=True)
class Publishable:
    job: Job
    product: Product
    print_file: StoredPrintFile


class PublishingService:
    def __init__(
        self,
        generation: GenerationService,
        store: PublishingStore,
        printful: PrintfulClient | None,
        variants: VariantCatalog | None,
        config: PublishingConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.generation = generation
        self.store = store
        self.printful = printful
        self._variants = variants
        self.config = config
        self.clock = clock

    # --- can this app publish at all? ---------------------------------------------------------
    def unavailable_reason(self) -> str | None:
        """Why nothing can be published with this configuration (None: it can), said before anyone tries."""
        if self.printful is None or self._variants is None:
            return "publishing to the store needs a Printful token: set PRINTFUL_API_TOKEN (and PRINTFUL_STORE_ID for an account-level token)"
        probe = self.generation.objects.public_url(f"{self.generation.objects.prefix}probe.png")
        if urlsplit(probe).scheme not in ("http", "https"):
            return ("Printful fetches the print file from its URL, but files are kept in this app's local folder "
                    f"(served at {probe.rsplit('/', 1)[0]}/…): use a public bucket (B2_S3_*) or set "
                    "STORAGE_PUBLIC_BASE_URL to a public address of that folder")
        return None

    def _require_available(self) -> None:
        reason = self.unavailable_reason()
        if reason is not None:  # a matter of this app's settings, not of Printful's health
            raise NotPublishable(reason)

    # --- variants -----------------------------------------------------------------------------
    def variants_for(self, user_id: str, job_id: str) -> ProductVariants:
        """The variants the caller's job may be published with (its product's, from Printful)."""
        job = self.generation.owned_job(user_id, job_id)
        return self._product_variants(self.generation.catalog.product(job.product))

    def _product_variants(self, product: Product) -> ProductVariants:
        if product.printful_product_id is None:
            raise NotPublishable(f"{product.name} has no Printful product to publish to")
        if self._variants is None:
            raise NotPublishable(self.unavailable_reason() or "Printful is not configured")
        try:
            variants = self._variants.variants(product.printful_product_id)
        except PrintfulError as exc:
            raise PublishingUnavailable(f"Printful could not list the variants of {product.name}: {exc}") from exc
        known = {v.variant_id for v in variants}
        default = product.printful_variant_id if product.printful_variant_id in known else None
        return ProductVariants(product.printful_product_id, variants, default)

    def _checked_variants(self, variants: ProductVariants, variant_ids: Sequence[Any] | None) -> list[int]:
        if not variant_ids:
            return [variants.default_variant_id or variants.variants[0].variant_id]
        try:
            ids = sorted({int(v) for v in variant_ids})
        except (TypeError, ValueError):
            raise InvalidRequest("variant_ids must be Printful variant ids (whole numbers)") from None
        if len(ids) > MAX_VARIANTS:
            raise InvalidRequest(f"at most {MAX_VARIANTS} variants per product")
        unknown = [v for v in ids if v not in variants.by_id()]
        if unknown:
            raise InvalidRequest(f"variant(s) {', '.join(map(str, unknown))} are not variants of Printful product "
                                 f"{variants.printful_product_id}")
        return ids

    # --- what may be published --------------------------------------------------------------------
    def _publishable(self, user_id: str, job_id: str) -> Publishable:
        job = self.generation.owned_job(user_id, job_id)
        if job.status is not JobStatus.COMPLETED or not job.storage_key:
            raise JobNotReady(f"job {job.id} is {job.status.value}: only a completed design can go to the store")
        self._require_available()
        product = self.generation.catalog.product(job.product)
        if product.printful_product_id is None:
            raise NotPublishable(f"{product.name} has no Printful product to publish to")
        stored = self.generation.files.print_file(user_id, job.id)
        if not _print_file_passes(stored):
            raise NotPublishable(f"the print file of job {job.id} fails preflight: {'; '.join(_failed_checks(stored))}")
        return Publishable(job, product, stored)

    # --- official mockups ------------------------------------------------------------------------
    def request_mockups(self, user_id: str, job_id: str, variant_ids: Sequence[Any] | None = None) -> MockupTask:
        """Queue Printful's mockups of the job's print file on `variant_ids` (default: the
        product's own variant). A request for a set already pending or done answers that one."""
        ready = self._publishable(user_id, job_id)
        chosen = self._checked_variants(self._product_variants(ready.product), variant_ids)
        existing = self.store.open_mockups(ready.job.id, variant_key(chosen))
        if existing is not None:
            return existing
        placement = ready.product.printful_placement or "default"
        files = [{
            "placement": placement,
            "image_url": ready.print_file.url,
            # the print file is the whole print area (create-task's position object)
            "position": {"area_width": ready.print_file.width, "area_height": ready.print_file.height,
                         "width": ready.print_file.width, "height": ready.print_file.height, "top": 0, "left": 0},
        }]
        task = self.store.enqueue_mockups(
            NewMockupTask(job_id=ready.job.id, user_id=user_id, store_key=self.config.store_key,
                          product_id=ready.product.printful_product_id or 0, variant_ids=chosen, files=files),
            now=self.clock(),
        )
        log.info("printful mockups queued job_id=%s variants=%d", ready.job.id, len(chosen))
        return task

    def mockups(self, user_id: str, job_id: str) -> MockupTask | None:
        """The caller's newest mockup request for the job (None when there is none)."""
        job = self.generation.owned_job(user_id, job_id)
        return self.store.latest_mockups(job.id)

    # --- publishing ------------------------------------------------------------------------------
    def publish(self, user_id: str, job_id: str, variant_ids: Sequence[Any], retail_price: str) -> StoreProduct:
        """The job as a product in the store with these variants at this price; a repeat for the
        same variant set answers the product made the first time."""
        ready = self._publishable(user_id, job_id)
        variants = self._product_variants(ready.product)
        if not variant_ids:
            raise InvalidRequest("variant_ids: pick at least one variant")
        chosen = self._checked_variants(variants, variant_ids)
        price = self._checked_price(retail_price, variants, chosen)
        key = variant_key(chosen)
        name = _product_name(ready.job, ready.product)
        row, reserved = self.store.reserve_product(ready.job.id, key, user_id, name, chosen, price,
                                                   PUBLISH_LEASE_S, self.clock())
        if not reserved:
            if row.status == "published":
                return row
            raise NotPublishable(f"job {ready.job.id} is being published with these variants right now; "
                                 "try again in a moment")
        try:
            product_id = self._create_product(ready, chosen, price, name, key)
        except PrintfulError as exc:
            self.store.release_product(ready.job.id, key)
            log.warning("publish failed job_id=%s error=%s", ready.job.id, exc)
            raise PublishingUnavailable(f"Printful did not create the product: {exc}") from exc
        except BaseException:
            self.store.release_product(ready.job.id, key)
            raise
        published = self.store.record_product(ready.job.id, key, product_id,
                                              DASHBOARD_PRODUCT_URL.format(product_id=product_id))
        log.info("published job_id=%s product_id=%s variants=%d", ready.job.id, product_id, len(chosen))
        return published

    def published(self, user_id: str, job_ids: Sequence[str]) -> dict[str, StoreProduct]:
        """The newest store product of each of the caller's jobs that has one."""
        products = self.store.published_products(list(job_ids))
        return {job_id: p for job_id, p in products.items() if p.user_id == user_id}

    def _create_product(self, ready: Publishable, chosen: list[int], price: str, name: str, key: str) -> int:
        assert self.printful is not None  # _publishable checked it
        within = self.config.request_timeout_s
        external_id = f"tg-{ready.job.id.replace('-', '')[:20]}-{key[:10]}"
        # a process that died after Printful made the product left a reservation; the product
        # carries our external id, so it is found instead of made twice
        existing = self.printful.sync_product_by_external_id(external_id, within_s=within)
        if existing is not None:
            return existing.product_id
        body = {
            "sync_product": {"external_id": external_id, "name": name, "thumbnail": self._thumbnail(ready)},
            "sync_variants": [
                {"variant_id": v, "retail_price": price,
                 "files": [{"type": ready.product.printful_placement or "default", "url": ready.print_file.url}]}
                for v in chosen
            ],
        }
        return self.printful.create_sync_product(body, within_s=within).product_id

    def _thumbnail(self, ready: Publishable) -> str:
        """Printful's own mockup when one is done, else the design itself."""
        task = self.store.latest_mockups(ready.job.id)
        if task is not None and task.status == "completed" and task.mockups:
            return task.mockups[0].url
        assert ready.job.storage_key
        return self.generation.objects.public_url(ready.job.storage_key)

    @staticmethod
    def _checked_price(retail_price: str, variants: ProductVariants, chosen: list[int]) -> str:
        text = str(retail_price or "").strip()
        if not PRICE_PATTERN.match(text):
            raise InvalidRequest("retail_price must be an amount like 24.00")
        try:
            price = Decimal(text)
        except InvalidOperation:
            raise InvalidRequest("retail_price must be an amount like 24.00") from None
        if not 0 < price < MAX_RETAIL_PRICE:
            raise InvalidRequest(f"retail_price must be above 0 and below {MAX_RETAIL_PRICE}")
        by_id = variants.by_id()
        cost = max(Decimal(by_id[v].price) for v in chosen)
        if price < cost:
            raise InvalidRequest(f"retail_price {price:.2f} is below Printful's price {cost:.2f} for these variants")
        return f"{price:.2f}"


def _product_name(job: Job, product: Product) -> str:
    """'Cyberpunk samurai — T-shirt': the brief's subject (else the idea) and the product."""
    subject = str(job.parsed_prompt.get("subject") or job.prompt).strip()
    subject = " ".join(subject.split())
    subject = subject[:1].upper() + subject[1:]
    suffix = f" — {product.name}"
    room = MAX_NAME_CHARS - len(suffix)
    if len(subject) > room:
        subject = subject[: room - 1] + "…"
    return subject + suffix


