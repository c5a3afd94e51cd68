"""A job's print file rendered and stored beside its image, as {prefix}{user_id}/{job_id}_print.png.

A job's image never changes once it completed, so its print file is rendered once: a print
file already stored (at the product's current size and DPI) is answered as it is. Rendering
costs about half a second of CPU and several hundred MB at the large print sizes, so each
process renders at most `MAX_CONCURRENT_RENDERS` at a time; a request beyond that is refused
with a Retry-After (`PrintRendersBusy`, HTTP 429) rather than queued.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from core.catalog import Product
from core.errors import InvalidRequest, QuotaExceeded, StorageError
from core.jobs import Job
from core.printing.printfiles import LOCAL_PROCESSOR, MADE_BY_CHUNK, render_print_file
from core.printing.processors import PrintProcessor
from core.storage import ObjectStore, image_key

log = logging.getLogger(__name__)

MAX_CONCURRENT_RENDERS = 2
RETRY_AFTER_S = 2


class PrintRendersBusy(QuotaExceeded):
    """Every print-file render slot of this process is taken; try again in `retry_after` seconds."""


class RenderSlots:
    """At most `size` print-file renders at once in this process; no waiting for a slot."""

    def __init__(self, size: int = MAX_CONCURRENT_RENDERS) -> None:
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def hold(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            raise PrintRendersBusy(
                "print files are being rendered at capacity; please try again in a few seconds", RETRY_AFTER_S
            )
        try:
            yield
        finally:
            self._slots.release()


# the process's own bound, shared by every door (API, studio)
RENDER_SLOTS = RenderSlots()


@dataclass(frozen=True)
class PreflightCheck:
    """One line of a print file's checklist: what was checked, and whether it passed, was fixed or failed."""

    check: str
    status: Literal["pass", "fixed", "fail"]
    detail: str


@dataclass(frozen=True)
class StoredPrintFile:
    key: str
    url: str
    width: int
    height: int
    dpi: int
    background_removed: bool
    preflight: list[PreflightCheck] = field(default_factory=list)
    # which path made the file: "local: flood-fill cutout, Lanczos upscale", "worker: BiRefNet cutout, ..."
    made_by: str = "local"
    download_name: str = ""


def store_print_file(objects: ObjectStore, job: Job, product: Product, slots: RenderSlots = RENDER_SLOTS,
                     processor: PrintProcessor = LOCAL_PROCESSOR) -> StoredPrintFile:
    """The job's print file: the stored one when it fits the product, else rendered (by
    `processor`: this process, or the GPU worker) and stored.

    InvalidRequest when the job's stored image cannot be read as a PNG, PrintRendersBusy when
    this process is already rendering its limit, StorageError when the image cannot be fetched
    or the file cannot be written.
    """
    assert job.storage_key, "a print file needs the job's stored image"
    key = image_key(objects.prefix, job.user_id, job.id, "_print")
    stored = _stored_print_file(objects, key, product, print_download_name(job, product))
    if stored is not None:
        log.info("print file reused job_id=%s key=%s", job.id, key)
        return stored
    with slots.hold():
        try:
            print_file = render_print_file(objects.get(job.storage_key), product, processor, job_id=job.id)
        except InvalidRequest as exc:
            raise InvalidRequest(f"the stored image of job {job.id} cannot be printed: {exc}") from exc
        objects.put_png(key, print_file.png)
    log.info(
        "print file stored job_id=%s key=%s size=%dx%d dpi=%d background_removed=%s made_by=%r",
        job.id, key, print_file.width, print_file.height, print_file.dpi, print_file.background_removed,
        print_file.made_by,
    )
    return StoredPrintFile(
        key=key, url=objects.public_url(key), width=print_file.width, height=print_file.height,
        dpi=print_file.dpi, background_removed=print_file.background_removed, made_by=print_file.made_by,
        download_name=print_download_name(job, product),
    )


def print_download_name(job: Job, product: Product) -> str:
    return f"tenkaigen-{product.id}-{job.id}.png"


def _stored_print_file(objects: ObjectStore, key: str, product: Product, download_name: str) -> StoredPrintFile | None:
    """The print file at `key` if one is stored at the product's size and DPI (read from its
    header); None when there is none, or it is unreadable or out of date (rendered again)."""
    try:
        if not objects.exists(key):
            return None
        with Image.open(io.BytesIO(objects.get(key))) as image:
            size, mode, dpi = image.size, image.mode, image.info.get("dpi", (0, 0))
            made_by = str(image.info.get(MADE_BY_CHUNK, "local"))
    except (StorageError, OSError, ValueError) as exc:
        log.warning("stored print file unusable key=%s error=%s", key, exc)
        return None
    if size != product.print_size_px or round(dpi[0]) != product.dpi:
        return None
    # the renderer writes RGBA exactly when it cut the background away
    return StoredPrintFile(key=key, url=objects.public_url(key), width=size[0], height=size[1], dpi=product.dpi,
                           background_removed=mode == "RGBA", download_name=download_name, made_by=made_by)
