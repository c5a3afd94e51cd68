"""GenerationService over a user's history: filters, favourites and delete, each on the
caller's own jobs only; delete takes the job's image and print file out of storage."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequest, JobNotFound, JobNotReady
from core.generators import GenerationOutcome
from core.jobs import HistoryFilter, Job, JobStatus
from core.jobs.service import GenerateCommand, GenerationService
from core.parsing import LocalPromptParser
from core.storage import ObjectStore, image_key
from tests.support.fake_worker import solid_png
from tests.support.generators import RecordingGenerator


def service_over(jobs, objects, catalog) -> GenerationService:
    return GenerationService(jobs=jobs, objects=objects, parser=LocalPromptParser(catalog),
                             generator=RecordingGenerator(), catalog=catalog,
                             webhook_url="http://127.0.0.1:1/api/generate/webhook")


@pytest.fixture
def service(sqlite_store, local_store, catalog) -> GenerationService:
    return service_over(sqlite_store, local_store, catalog)


def created(service: GenerationService, user: str = "alice", **changes: str) -> Job:
    values = {"prompt": "a red fox in the snow", "style": "anime", "product": "t-shirt", **changes}
    return service.create_job(user, GenerateCommand(**values))


def completed(service: GenerationService, user: str = "alice", **changes: str) -> Job:
    job = created(service, user, **changes)
    service.apply_outcome(GenerationOutcome(job_id=job.id, status="completed", png=solid_png(job.width, job.height)))
    return service.jobs.get(job.id)


def test_history_filters_the_callers_own_jobs(service):
    mug = completed(service, product="mug")
    poster = completed(service, style="watercolor", product="poster")
    completed(service, "bob", product="mug")
    assert [j.id for j in service.history("alice", HistoryFilter(product="mug"))] == [mug.id]
    assert [j.id for j in service.history("alice", HistoryFilter(style="watercolor"))] == [poster.id]
    assert [j.id for j in service.history("alice")] == [poster.id, mug.id]


@pytest.mark.parametrize(("filters", "message"), [(HistoryFilter(style="baroque"), "unknown style 'baroque'"),
                                                   (HistoryFilter(product="spaceship"), "unknown product")])
def test_history_refuses_a_style_or_product_the_catalog_does_not_know(service, filters, message):
    with pytest.raises(InvalidRequest, match=message):
        service.history("alice", filters)


def test_a_favourite_is_set_on_the_callers_job_and_filtered(service):
    loved, plain = completed(service), created(service)
    assert service.set_favorite("alice", loved.id, True).favorite is True
    assert service.set_favorite("alice", plain.id, False).favorite is False
    assert [j.id for j in service.history("alice", HistoryFilter(favorite=True))] == [loved.id]
    assert service.set_favorite("alice", loved.id, False).favorite is False


def test_delete_removes_the_image_the_print_file_and_the_row(object_store: ObjectStore, sqlite_store, catalog):
    service = service_over(sqlite_store, object_store, catalog)
    job = completed(service)
    print_key = service.files.print_file("alice", job.id).key
    assert job.storage_key == image_key(object_store.prefix, "alice", job.id)
    assert object_store.exists(job.storage_key) and object_store.exists(print_key)
    kept = completed(service)
    service.delete_job("alice", job.id)
    assert not object_store.exists(job.storage_key) and not object_store.exists(print_key)
    with pytest.raises(JobNotFound):
        service.owned_job("alice", job.id)
    assert object_store.exists(kept.storage_key) and [j.id for j in service.history("alice")] == [kept.id]


def test_a_failed_or_canceled_job_without_images_is_deleted(service):
    canceled = service.cancel("alice", created(service).id)
    service.delete_job("alice", canceled.id)
    assert service.history("alice") == []


def test_a_running_job_is_refused_until_it_is_canceled(service):
    running = service.dispatch(created(service).id)
    assert running.status is JobStatus.PROCESSING
    with pytest.raises(JobNotReady, match="cancel it before deleting it"):
        service.delete_job("alice", running.id)
    service.cancel("alice", running.id)
    service.delete_job("alice", running.id)
    assert service.history("alice") == []


def test_another_users_job_cannot_be_favourited_or_deleted(service, local_store):
    job = completed(service)
    for call in (lambda: service.set_favorite("bob", job.id, True), lambda: service.delete_job("bob", job.id)):
        with pytest.raises(JobNotFound):
            call()
    assert service.jobs.get(job.id).favorite is False and local_store.exists(job.storage_key)
