"""A job's print file rendered and stored beside its image, as {prefix}{user_id}/{job_id}_print.png.

A job's image never changes once it completed, so its print file is rendered once: a print
file already stored (at the product's current size and DPI, carrying its preflight checklist
in a text chunk) is answered as it is, with the checklist it was rendered with. Rendering
costs about half a second of CPU and several hundred MB at the large print sizes, so each
process renders at most `MAX_CONCURRENT_RENDERS` at a time; a request beyond that is refused
with a Retry-After (`PrintRendersBusy`, HTTP 429) rather than queued.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from PIL import Image

from core.catalog import Product
from core.errors import InvalidRequest, QuotaExceeded, StorageError
from core.jobs import Job
from core.printing.preflight import PreflightCheck
from core.printing.printfiles import (
    LOCAL_PROCESSOR,
    MADE_BY_CHUNK,
    PREFLIGHT_CHUNK,
    checklist_from_json,
    render_print_file,
)
from core.printing.processors import PrintProcessor
from core.storage import ObjectStore, image_key

log = logging.getLogger(__name__)

MAX_CONCURRENT_RENDERS = 2
RETRY_AFTER_S = 2
DOWNLOAD_NAME_WORDS = 4  # the idea's first words name the downloaded file


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
class StoredPrintFile:
    key: str
    url: str
    width: int
    height: int
    dpi: int
    background_removed: bool
    preflight: list[PreflightCheck]
    made_by: str  # how it was made, e.g. "local: flood-fill cutout, Lanczos upscale"
    download_name: str  # e.g. "cyberpunk-samurai_t-shirt_1800x2400_150dpi.png"

    @property
    def failed(self) -> bool:
        """Whether a preflight check failed (the file is still made: the designer decides)."""
        return any(check.status == "fail" for check in self.preflight)


def download_name(idea: str, product_id: str, width: int, height: int, dpi: int) -> str:
    """The file name a designer downloads: the idea's first words, the product, size and DPI."""
    ascii_idea = unicodedata.normalize("NFKD", idea).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_idea.lower())
    words = [w for w in words if w not in {"a", "an", "the"}] or words
    slug = "-".join(words[:DOWNLOAD_NAME_WORDS])[:60].strip("-") or "design"
    return f"{slug}_{product_id}_{width}x{height}_{dpi}dpi.png"


def store_print_file(
    objects: ObjectStore,
    job: Job,
    product: Product,
    slots: RenderSlots = RENDER_SLOTS,
    processor: PrintProcessor = LOCAL_PROCESSOR,
    text: Mapping[str, str] | None = None,
) -> StoredPrintFile:
    """The job's print file: the stored one when it fits the product, else rendered (by
    `processor`: this process, or the GPU worker; with `text`, the generation record, in its
    text chunks) and stored.

    InvalidRequest when the job's stored image cannot be read as a PNG, PrintRendersBusy when
    this process is already rendering its limit, StorageError when the image cannot be fetched
    or the file cannot be written.
    """
    assert job.storage_key, "a print file needs the job's stored image"
    key = image_key(objects.prefix, job.user_id, job.id, "_print")
    name = download_name(job.prompt, product.id, *product.print_size_px, product.dpi)
    stored = _stored_print_file(objects, key, product, name)
    if stored is not None:
        log.info("print file reused job_id=%s key=%s", job.id, key)
        return stored
    with slots.hold():
        try:
            print_file = render_print_file(objects.get(job.storage_key), product, processor, job_id=job.id, text=text)
        except InvalidRequest as exc:
            raise InvalidRequest(f"the stored image of job {job.id} cannot be printed: {exc}") from exc
        objects.put_png(key, print_file.png)
    log.info(
        "print file stored job_id=%s key=%s size=%dx%d dpi=%d background_removed=%s preflight=%s made_by=%r",
        job.id, key, print_file.width, print_file.height, print_file.dpi, print_file.background_removed,
        "failed" if print_file.failed else "passed", print_file.made_by,
    )
    return StoredPrintFile(
        key=key, url=objects.public_url(key), width=print_file.width, height=print_file.height,
        dpi=print_file.dpi, background_removed=print_file.background_removed, preflight=print_file.preflight,
        made_by=print_file.made_by, download_name=name,
    )


def _stored_print_file(objects: ObjectStore, key: str, product: Product, name: str) -> StoredPrintFile | None:
    """The print file at `key` if one is stored at the product's size and DPI with its
    checklist (read from its header and text chunks); None when there is none, or it is
    unreadable or out of date (rendered again)."""
    try:
        if not objects.exists(key):
            return None
        with Image.open(io.BytesIO(objects.get(key))) as image:
            size, mode, dpi = image.size, image.mode, image.info.get("dpi", (0, 0))
            chunks = image.text  # reads the text chunks after the image data too
        checks = checklist_from_json(chunks[PREFLIGHT_CHUNK])
        made_by = chunks[MADE_BY_CHUNK]
    except KeyError:
        return None  # made before print files carried their checklist
    except (StorageError, OSError, ValueError, TypeError) as exc:
        log.warning("stored print file unusable key=%s error=%s", key, exc)
        return None
    if size != product.print_size_px or round(dpi[0]) != product.dpi:
        return None
    # the renderer writes RGBA exactly when it cut the background away
    return StoredPrintFile(key=key, url=objects.public_url(key), width=size[0], height=size[1], dpi=product.dpi,
                           background_removed=mode == "RGBA", preflight=checks, made_by=made_by,
                           download_name=name)
