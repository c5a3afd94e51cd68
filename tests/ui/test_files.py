"""The studio's files for a completed job whose stored image is unusable: a tile saying so,
so the History tab and the job's card still load."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from core.generators import GenerationOutcome
from core.jobs import Job
from core.jobs.service import GenerateCommand, GenerationService
from core.parsing import LocalPromptParser
from tests.support.bad_pngs import garbled_png
from tests.support.fake_worker import solid_png
from tests.support.generators import RecordingGenerator
from ui.files import StudioFiles


@pytest.fixture
def service(sqlite_store, local_store, catalog) -> GenerationService:
    return GenerationService(jobs=sqlite_store, objects=local_store, parser=LocalPromptParser(catalog),
                             generator=RecordingGenerator(), catalog=catalog, webhook_url="http://127.0.0.1:9/hook")


def completed_job(service: GenerationService) -> Job:
    job = service.submit("alice", GenerateCommand(prompt="a fox", style="anime", product="mug"))
    service.apply_outcome(GenerationOutcome(job_id=job.id, status="completed", png=solid_png(job.width, job.height)))
    return service.jobs.get(job.id)


def test_a_completed_job_whose_stored_image_is_damaged_shows_an_unreadable_tile(service, tmp_path):
    job = completed_job(service)
    service.objects.put_png(job.storage_key, garbled_png(job.width, job.height))  # damaged in storage
    files = StudioFiles(service, tmp_path / "studio")
    shown = {"thumbnail": files.thumbnail(job), "design": files.design(job), "mockup": files.mockup(job)}
    assert {Path(p).name for p in shown.values()} == {f"unreadable-{job.id}.png"}
    Image.open(shown["thumbnail"]).verify()  # a real picture Gradio can serve


def test_an_unreachable_image_shows_a_tile_and_is_fetched_again_next_time(service, tmp_path):
    job = completed_job(service)
    stored = service.objects.get(job.storage_key)
    service.objects.delete(job.storage_key)  # the store cannot hand it out
    files = StudioFiles(service, tmp_path / "studio")
    assert Path(files.thumbnail(job)).name == f"unreachable-{job.id}.png"
    service.objects.put_png(job.storage_key, stored)  # back again
    thumbnail = files.thumbnail(job)
    assert Path(thumbnail).name == f"thumb-{job.id}.jpg"
    assert Image.open(io.BytesIO(Path(thumbnail).read_bytes())).format == "JPEG"
