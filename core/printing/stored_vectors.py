"""A job's vector file traced and stored beside its image, as
{prefix}{user_id}/{job_id}_vector_{colors}.svg.

Like the print file (core.printing.stored), it is traced once per colour count and answered as
stored after that, and a trace takes one of the process's print render slots: tracing costs
about a second of CPU, so a request beyond the bound is refused (PrintRendersBusy, HTTP 429).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.catalog import Product
from core.errors import InvalidRequest, StorageError
from core.jobs import Job
from core.printing.stored import RENDER_SLOTS, RenderSlots
from core.printing.vectors import PATH_ELEMENT, check_colors, render_vector_file
from core.storage import ObjectStore, image_key

log = logging.getLogger(__name__)

SVG_CONTENT_TYPE = "image/svg+xml"


@dataclass(frozen=True)
class StoredVectorFile:
    key: str
    url: str
    colors: int
    paths: int
    download_name: str


def vector_key(objects: ObjectStore, job: Job, colors: int) -> str:
    return image_key(objects.prefix, job.user_id, job.id, f"_vector_{colors}", extension="svg")


def store_vector_file(objects: ObjectStore, job: Job, product: Product, colors: int,
                      slots: RenderSlots = RENDER_SLOTS) -> StoredVectorFile:
    """The job's SVG in `colors` colours: the stored one, else traced and stored.

    InvalidRequest for colours out of range or a stored image that cannot be read as a PNG,
    PrintRendersBusy when this process is already rendering its limit, StorageError when the
    image cannot be fetched or the file cannot be written.
    """
    assert job.storage_key, "a vector file needs the job's stored image"
    check_colors(colors)
    key = vector_key(objects, job, colors)
    download_name = f"tenkaigen-{product.id}-{job.id}-{colors}-colours.svg"
    stored = _stored_paths(objects, key)
    if stored is not None:
        log.info("vector file reused job_id=%s key=%s", job.id, key)
        return StoredVectorFile(key, objects.public_url(key), colors, stored, download_name)
    with slots.hold():
        try:
            vector = render_vector_file(objects.get(job.storage_key), product, colors)
        except InvalidRequest as exc:
            raise InvalidRequest(f"the stored image of job {job.id} cannot be traced: {exc}") from exc
        objects.put(key, vector.svg, SVG_CONTENT_TYPE)
    log.info("vector file stored job_id=%s key=%s colors=%d paths=%d", job.id, key, colors, vector.paths)
    return StoredVectorFile(key, objects.public_url(key), colors, vector.paths, download_name)


def _stored_paths(objects: ObjectStore, key: str) -> int | None:
    """The number of paths in the SVG stored at `key`; None when there is none or it is unreadable."""
    try:
        if not objects.exists(key):
            return None
        svg = objects.get(key).decode("utf-8")
    except (StorageError, UnicodeDecodeError) as exc:
        log.warning("stored vector file unusable key=%s error=%s", key, exc)
        return None
    if not svg.rstrip().endswith("</svg>"):
        return None  # cut short: traced again
    return len(PATH_ELEMENT.findall(svg))
