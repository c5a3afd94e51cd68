"""A job's print file rendered and stored beside its image, as {prefix}{user_id}/{job_id}_print.png."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.catalog import Product
from core.jobs import Job
from core.printing.printfiles import render_print_file
from core.storage import ObjectStore, image_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredPrintFile:
    key: str
    url: str
    width: int
    height: int
    dpi: int
    background_removed: bool


def store_print_file(objects: ObjectStore, job: Job, product: Product) -> StoredPrintFile:
    """Render the print-ready PNG of a completed job's image and store it (overwriting an
    earlier one); StorageError when the image cannot be read or the file cannot be written."""
    assert job.storage_key, "a print file needs the job's stored image"
    print_file = render_print_file(objects.get(job.storage_key), product)
    key = image_key(objects.prefix, job.user_id, job.id, "_print")
    objects.put_png(key, print_file.png)
    log.info(
        "print file stored job_id=%s key=%s size=%dx%d dpi=%d background_removed=%s",
        job.id, key, print_file.width, print_file.height, print_file.dpi, print_file.background_removed,
    )
    return StoredPrintFile(
        key=key, url=objects.public_url(key), width=print_file.width, height=print_file.height,
        dpi=print_file.dpi, background_removed=print_file.background_removed,
    )
