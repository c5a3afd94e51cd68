"""Images the studio hands to Gradio as files, written once per job into a temporary folder.

Gradio serves files from the system temp folder; a job's image never changes once it is
completed, so each file is written on first use and reused after that.

A completed job's stored image may still be unusable: unreadable (stored before images were
checked whole, or damaged in storage) or out of reach (the bucket is down). Such a job shows a
tile saying so in place of its design, thumbnail and mockup, and the rest of the page loads.
An unreadable image is remembered; an unreachable one is tried again on the next load.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.errors import InvalidRequest, StorageError
from core.imaging.png_check import check_png
from core.jobs import Job, JobStatus
from core.jobs.service import GenerationService
from core.mockups.previews import render_on_colour, render_status_tile, render_thumbnail
from core.printing.stored import StoredPrintFile
from core.printing.stored_vectors import StoredVectorFile

log = logging.getLogger(__name__)

LIGHT_GARMENT = (255, 255, 255)
DARK_GARMENT = (24, 24, 27)

UNREADABLE_CAPTION = "the stored image cannot be read"
UNREACHABLE_CAPTION = "the image store cannot be reached"


class StudioFiles:
    def __init__(self, service: GenerationService, root: Path | None = None) -> None:
        self._service = service
        self.root = root or Path(tempfile.mkdtemp(prefix="tenkaigen-studio-"))
        self.root.mkdir(parents=True, exist_ok=True)

    # Each job here came from one of the caller's own reads (history, owned_job, a batch they
    # submitted), so its owner is the caller.
    def design(self, job: Job) -> str:
        """The job's full-size PNG, named for download (or a tile saying why there is none)."""
        return self._from_image(job, f"tenkaigen-{job.product}-{job.id}.png", lambda png: png)

    def mockup(self, job: Job) -> str:
        return self._from_image(job, f"mockup-{job.id}.png", lambda _png: self._service.files.mockup_png(job.user_id, job.id))

    def thumbnail(self, job: Job) -> str:
        """A small picture for galleries: the design, or a tile naming the status."""
        if job.status is JobStatus.COMPLETED:
            return self._from_image(job, f"thumb-{job.id}.jpg", render_thumbnail)
        caption = (job.error or job.prompt) if job.status is JobStatus.FAILED else job.prompt
        # a pending or running job's tile changes when it finishes: keyed by status too
        return self._cached(f"tile-{job.id}-{job.status.value}.png", lambda: render_status_tile(job.status.value, caption))

    def print_file(self, job: Job, stored: StoredPrintFile) -> str:
        """The job's print file, named for download (a file stored again under the same key,
        after its product's size changed, has another size: its name in the cache says so)."""
        return self._export(job, stored.key, f"{stored.width}x{stored.height}", stored.download_name)

    def vector_file(self, job: Job, stored: StoredVectorFile) -> str:
        return self._export(job, stored.key, "svg", stored.download_name)

    def print_on_garments(self, job: Job, stored: StoredPrintFile) -> tuple[str, str]:
        """The print file laid over a light and over a dark garment colour, small."""
        png = Path(self.print_file(job, stored)).read_bytes()
        tag = f"{job.id}-{stored.width}x{stored.height}"
        return (self._cached(f"on-light-{tag}.png", lambda: render_on_colour(png, LIGHT_GARMENT)),
                self._cached(f"on-dark-{tag}.png", lambda: render_on_colour(png, DARK_GARMENT)))

    def _export(self, job: Job, key: str, version: str, download_name: str) -> str:
        folder = self.root / f"export-{job.id}-{version}"
        folder.mkdir(exist_ok=True)
        path = folder / (download_name or Path(key).name)
        if not path.exists():
            data = self._service.files.load_file(job.user_id, job.id, key)
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as tmp:
                tmp.write(data)
            os.replace(tmp.name, path)
        return str(path)

    def forget(self, job_id: str) -> None:
        """Remove every file made for a job (after it was deleted): its design, mockup and thumbnails."""
        for path in self.root.glob(f"*{job_id}*"):
            if path.is_dir():  # a print or vector file's export folder
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the folder (the app does this when it stops)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def _from_image(self, job: Job, name: str, make: Callable[[bytes], bytes]) -> str:
        """A file made from the job's stored image, checked whole first; a tile when it is unusable."""
        path = self.root / name
        if path.exists():
            return str(path)
        broken = self.root / f"unreadable-{job.id}.png"
        if broken.exists():
            return str(broken)
        try:
            png = self._service.files.image(job.user_id, job.id)
            check_png(png)
            return self._cached(name, lambda: make(png))
        except InvalidRequest as exc:
            log.warning("stored image unreadable job_id=%s error=%s", job.id, exc)
            return self._cached(broken.name, lambda: render_status_tile("unreadable", UNREADABLE_CAPTION))
        except StorageError as exc:
            log.warning("stored image unreachable job_id=%s error=%s", job.id, exc)
            return self._cached(f"unreachable-{job.id}.png", lambda: render_status_tile("unavailable", UNREACHABLE_CAPTION))

    def _cached(self, name: str, make: Callable[[], bytes]) -> str:
        path = self.root / name
        if not path.exists():
            # written aside then renamed, so a concurrent reader never sees half a file
            with tempfile.NamedTemporaryFile(dir=self.root, suffix=".part", delete=False) as tmp:
                tmp.write(make())
            os.replace(tmp.name, path)
        return str(path)
