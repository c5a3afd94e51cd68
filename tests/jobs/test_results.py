"""Results: an image is decoded whole, within limits, and checked against its job's size before
the job completes, and a refused one fails the job at once; an image the bucket refuses is
retried for in-process jobs and then fails the job naming the bucket, and a remote worker's job
fails at the worker's last delivery instead of at the deadline."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial

import boto3
import pytest
from botocore.config import Config

from core.errors import InvalidRequest, StorageError
from core.generators import DraftGenerator, GenerationOutcome, GenerationRequest
from core.imaging.png_check import check_png
from core.jobs import JobStatus
from core.jobs.models import REMOTE_RUNNER
from core.jobs.results import IN_PROCESS_UPLOAD_BACKOFF_S, WORKER_DELIVERY_ATTEMPTS
from core.jobs.service import GenerateCommand, GenerationService
from core.parsing import LocalPromptParser, ParsedPrompt
from core.storage import S3ObjectStore
from tests.support.bad_pngs import cut_png, garbled_png, text_bomb_png
from tests.support.fake_worker import solid_png
from tests.support.generators import RecordingGenerator
from tests.support.servers import free_port

FOX = GenerateCommand(prompt="a fox", style="anime", product="mug")

BAD_BODIES = {
    "garbled-pixels": garbled_png,
    "cut-pixels": cut_png,
    "text-bomb-after-pixels": text_bomb_png,
    "text-bomb-before-pixels": partial(text_bomb_png, before_pixels=True),
}


def make_service(jobs, objects, catalog, runs_in_process: bool = False) -> GenerationService:
    return GenerationService(
        jobs=jobs, objects=objects, parser=LocalPromptParser(catalog),
        generator=RecordingGenerator(runs_in_process=runs_in_process), catalog=catalog,
        webhook_url="http://127.0.0.1:9/hook",
    )


def completed(job, png: bytes | None = None) -> GenerationOutcome:
    return GenerationOutcome(job_id=job.id, status="completed", png=png or solid_png(job.width, job.height), seed=3)


@pytest.fixture
def down_bucket() -> S3ObjectStore:
    """A bucket whose S3 server is not there (nothing listens on the port)."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="k",
                          aws_secret_access_key="k", config=Config(connect_timeout=2, retries={"max_attempts": 1}))
    return S3ObjectStore(client, bucket="tenkaigen-down", prefix="ai-generated/", endpoint=endpoint)


# --- the image is checked whole ------------------------------------------------------------
@pytest.mark.parametrize("make_png", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_png_with_a_right_header_and_a_bad_body_is_refused(make_png):
    with pytest.raises(InvalidRequest, match="could not be read"):
        check_png(make_png(64, 48))


def test_a_text_chunk_inflating_to_200_mb_is_refused_at_pillows_text_limit():
    with pytest.raises(InvalidRequest, match="MAX_TEXT_CHUNK"):
        check_png(text_bomb_png(64, 48, inflated_mb=200))


@pytest.mark.parametrize("make_png", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_result_with_a_bad_body_fails_the_job_at_once_with_the_reason(sqlite_store, local_store, catalog, make_png):
    service = make_service(sqlite_store, local_store, catalog)
    job = service.submit("alice", FOX)
    with pytest.raises(InvalidRequest):
        service.apply_outcome(completed(job, make_png(job.width, job.height)))
    failed = service.jobs.get(job.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error.startswith("the generated image was refused: image could not be read")
    assert local_store.usage().objects == 0


def test_a_result_of_another_size_fails_the_job_at_once(sqlite_store, local_store, catalog):
    service = make_service(sqlite_store, local_store, catalog)
    job = service.submit("alice", FOX)
    with pytest.raises(InvalidRequest):
        service.apply_outcome(completed(job, solid_png(64, 64)))
    failed = service.jobs.get(job.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == f"the generated image was refused: image is 64x64 but the job asked for {job.width}x{job.height}"


# --- where a job runs -----------------------------------------------------------------------
@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "remote"])
def test_dispatch_records_where_the_job_runs(job_store, local_store, catalog, in_process):
    service = make_service(job_store, local_store, catalog, runs_in_process=in_process)
    job = service.jobs.get(service.submit("alice", FOX).id)
    assert job.runner == (service.runner if in_process else REMOTE_RUNNER)
    assert job.runs_in_process is in_process and service.runner.startswith("process:")


# --- an image the bucket refuses --------------------------------------------------------------
def test_an_in_process_upload_is_retried_with_backoff_then_fails_the_job_naming_the_bucket(sqlite_store, down_bucket, catalog):
    service = make_service(sqlite_store, down_bucket, catalog, runs_in_process=True)
    waits: list[float] = []
    service.results._sleep = waits.append
    job = service.submit("alice", FOX)
    with pytest.raises(StorageError):
        service.apply_outcome(completed(job))
    assert waits == list(IN_PROCESS_UPLOAD_BACKOFF_S)
    failed = service.jobs.get(job.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error.startswith(f"could not store the image: Failed to upload ai-generated/alice/{job.id}.png "
                                   "to bucket tenkaigen-down")


def test_an_in_process_upload_that_succeeds_on_a_retry_completes_the_job(sqlite_store, local_store, catalog):
    service = make_service(sqlite_store, local_store, catalog, runs_in_process=True)
    service.results._sleep = lambda _s: None
    real_put, calls = local_store.put_png, []

    def refused_once(key: str, data: bytes) -> None:
        calls.append(key)
        if len(calls) == 1:
            raise StorageError("bucket blip")
        real_put(key, data)

    local_store.put_png = refused_once  # type: ignore[method-assign]
    job = service.submit("alice", FOX)
    service.apply_outcome(completed(job))
    assert len(calls) == 2 and service.jobs.get(job.id).status is JobStatus.COMPLETED


def test_a_remote_job_keeps_processing_through_the_workers_retries_and_fails_at_its_last(sqlite_store, down_bucket, catalog):
    service = make_service(sqlite_store, down_bucket, catalog)
    service.results._sleep = lambda _s: pytest.fail("a remote job's upload is retried by the worker, not here")
    job = service.submit("alice", FOX)
    for delivery in range(1, WORKER_DELIVERY_ATTEMPTS):
        with pytest.raises(StorageError):
            service.apply_outcome(completed(job))
        waiting = service.jobs.get(job.id)
        assert (waiting.status, waiting.upload_failures) == (JobStatus.PROCESSING, delivery)
    with pytest.raises(StorageError):
        service.apply_outcome(completed(job))
    failed = service.jobs.get(job.id)
    assert failed.status is JobStatus.FAILED and "to bucket tenkaigen-down" in failed.error


def test_a_remote_job_whose_worker_gave_up_early_is_reaped_with_the_storage_error(job_store, down_bucket, catalog):
    service = make_service(job_store, down_bucket, catalog)
    job = service.submit("alice", FOX)
    with pytest.raises(StorageError):
        service.apply_outcome(completed(job))
    [reaped] = job_store.fail_stale_processing(600, "the GPU worker did not report within 10 min",
                                               now=datetime.now(UTC) + timedelta(hours=1))
    assert reaped.id == job.id and reaped.error.startswith("could not store the image: Failed to upload")


# --- cancel against completion ----------------------------------------------------------------
def test_a_draft_finishing_after_its_job_was_canceled_logs_no_error(sqlite_store, local_store, catalog, caplog):
    service = make_service(sqlite_store, local_store, catalog)
    job = service.submit("alice", FOX)
    service.cancel("alice", job.id)
    draft = DraftGenerator({})
    brief = ParsedPrompt.model_validate(job.parsed_prompt)
    request = GenerationRequest(job_id=job.id, user_id="alice", prompt=brief.prompt, negative_prompt="",
                                width=job.width, height=job.height, seed=1, steps=1, webhook_url="", brief=brief)
    with caplog.at_level(logging.INFO):
        draft.submit(request, service)
        draft.close()
    assert [r.levelname for r in caplog.records if r.name == "core.generators.draft"] == ["INFO"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert service.jobs.get(job.id).status is JobStatus.CANCELED and local_store.usage().objects == 0
