"""Images the studio hands to Gradio as files, written once per job into a temporary folder.

Gradio serves files from the system temp folder; a job's image never changes once it is
completed, so each file is written on first use and reused after that.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.jobs import Job, JobStatus
from core.mockups.previews import render_status_tile, render_thumbnail
from core.jobs.service import GenerationService


class StudioFiles:
    def __init__(self, service: GenerationService, root: Path | None = None) -> None:
        self._service = service
        self.root = root or Path(tempfile.mkdtemp(prefix="tenkaigen-studio-"))
        self.root.mkdir(parents=True, exist_ok=True)

    # Each job here came from one of the caller's own reads (history, owned_job, a batch they
    # submitted), so its owner is the caller.
    def design(self, job: Job) -> str:
        """The job's full-size PNG, named for download."""
        return self._cached(f"tenkaigen-{job.product}-{job.id}.png", lambda: self._service.load_image(job.user_id, job.id))

    def mockup(self, job: Job) -> str:
        return self._cached(f"mockup-{job.id}.png", lambda: self._service.mockup_png(job.user_id, job.id))

    def thumbnail(self, job: Job) -> str:
        """A small picture for galleries: the design, or a tile naming the status."""
        if job.status is JobStatus.COMPLETED:
            return self._cached(f"thumb-{job.id}.jpg", lambda: render_thumbnail(self._service.load_image(job.user_id, job.id)))
        caption = (job.error or job.prompt) if job.status is JobStatus.FAILED else job.prompt
        # a pending or running job's tile changes when it finishes: keyed by status too
        return self._cached(f"tile-{job.id}-{job.status.value}.png", lambda: render_status_tile(job.status.value, caption))

    def close(self) -> None:
        """Remove the folder (the app does this when it stops)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def _cached(self, name: str, make: Callable[[], bytes]) -> str:
        path = self.root / name
        if not path.exists():
            # written aside then renamed, so a concurrent reader never sees half a file
            with tempfile.NamedTemporaryFile(dir=self.root, suffix=".part", delete=False) as tmp:
                tmp.write(make())
            os.replace(tmp.name, path)
        return str(path)
