"""A completed job's files, for its owner only: the design, its print file, its SVG, its mockup.

`GenerationService.files`; each method takes the caller and the job id, and the ownership check
is the service's (`owned_job`: JobNotFound for an unknown or another's job).
"""

from __future__ import annotations

from collections.abc import Callable

from core.catalog import Catalog
from core.errors import InvalidRequest, JobNotFound, JobNotReady
from core.generators.draft import DraftGenerator
from core.generators.draft_art import DRAFT_REVISION
from core.imaging.png_text import generation_text
from core.jobs import Job, JobStatus
from core.mockups import render_mockup
from core.printing.processors import PrintProcessor
from core.printing.stored import StoredPrintFile, store_print_file
from core.printing.stored_vectors import StoredVectorFile, store_vector_file
from core.storage import ObjectStore, image_key

OwnedJob = Callable[[str, str], Job]


class JobFiles:
    def __init__(
        self,
        owned_job: OwnedJob,
        objects: ObjectStore,
        catalog: Catalog,
        printing: PrintProcessor,
        *,
        png_metadata: bool = True,
        model_revision: str | None = None,
        default_steps: int = 50,
    ) -> None:
        self._owned_job = owned_job
        self._objects = objects
        self._catalog = catalog
        self._printing = printing
        # print files carry the generation record in text chunks (TENKAIGEN_PNG_METADATA)
        self._png_metadata = png_metadata
        self._model_revision = model_revision
        self._default_steps = default_steps

    def print_file(self, user_id: str, job_id: str) -> StoredPrintFile:
        """Render and store the print-ready PNG of the caller's completed job (core.printing).

        JobNotFound for an unknown or another's job, JobNotReady when it has not completed,
        StorageError when the image cannot be read or the print file cannot be written.
        """
        job = self._completed(user_id, job_id, "a print file")
        return store_print_file(self._objects, job, self._catalog.product(job.product), processor=self._printing,
                                text=self._generation_text(job))

    def vector_colors(self, user_id: str, job_id: str) -> int:
        """The colours a vector export of the caller's job starts from: its style's."""
        job = self._owned_job(user_id, job_id)
        return self._catalog.styles[job.style].vector_colors if job.style in self._catalog.styles else 8

    def vector(self, user_id: str, job_id: str, colors: int | None = None) -> StoredVectorFile:
        """Trace and store the SVG of the caller's completed job in `colors` colours (its
        style's count when None); errors as print_file's, InvalidRequest for colours out of range."""
        job = self._completed(user_id, job_id, "a vector file")
        chosen = colors if colors is not None else self.vector_colors(user_id, job_id)
        return store_vector_file(self._objects, job, self._catalog.product(job.product), chosen)

    def load_file(self, user_id: str, job_id: str, key: str) -> bytes:
        """A file exported from the caller's job (its print file, an SVG), by the key the export
        answered; JobNotFound for another's job or a key that is not one of the job's files."""
        job = self._owned_job(user_id, job_id)
        if ".." in key or not key.startswith(image_key(self._objects.prefix, job.user_id, job.id, "_", extension="")[:-1]):
            raise JobNotFound(job_id)
        return self._objects.get(key)

    def mockup_png(self, user_id: str, job_id: str, size: int = 640) -> bytes:
        """The caller's completed design on its product (core.mockups), as a size×size PNG."""
        job = self._owned_job(user_id, job_id)
        return render_mockup(self._image_of(job), self._catalog.product(job.product), size)

    def image(self, user_id: str, job_id: str) -> bytes:
        """The stored PNG of the caller's completed job; StorageError when it cannot be read."""
        return self._image_of(self._owned_job(user_id, job_id))

    def _completed(self, user_id: str, job_id: str, what: str) -> Job:
        job = self._owned_job(user_id, job_id)
        if job.status is not JobStatus.COMPLETED or not job.storage_key:
            raise JobNotReady(f"job {job.id} is {job.status.value}: {what} needs a completed job")
        return job

    def _image_of(self, job: Job) -> bytes:
        if job.status is not JobStatus.COMPLETED or not job.storage_key:
            raise InvalidRequest(f"job {job.id} has no image (status {job.status.value})")
        return self._objects.get(job.storage_key)

    def _generation_text(self, job: Job) -> dict[str, str] | None:
        """What made the job's image, for its print file's text chunks; None when turned off."""
        if not self._png_metadata:
            return None
        brief = job.parsed_prompt
        revision = DRAFT_REVISION if job.model == DraftGenerator.model_name else self._model_revision
        return generation_text(
            prompt=str(brief.get("prompt", job.prompt)), negative_prompt=str(brief.get("negative_prompt", "")),
            seed=job.seed, steps=brief.get("steps") or self._default_steps, model=job.model, revision=revision,
        )
