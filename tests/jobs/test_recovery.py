"""No job lost: stale pending jobs are claimed once and handed over again; silent
processing jobs are failed with a reason; a restarted app finishes what was left."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.catalog import Catalog
from core.errors import InvalidTransition
from core.generators import GenerationOutcome
from core.jobs import JobStatus, JobStore
from core.jobs.postgres_store import PostgresJobStore, open_pool
from core.parsing import LocalPromptParser
from core.jobs.recovery import JobRecovery, recovery_loop, RecoveryPolicy
from core.jobs.service import GenerateCommand, GenerationService
from core.storage import LocalObjectStore
from core.worker_contract.webhooks import WebhookPayload, WebhookSigner
from tests.jobs.test_job_stores import new_job
from tests.support.apps import make_settings
from tests.support.fake_worker import FakeWorker, solid_png
from tests.support.generators import RecordingGenerator
from tests.support.servers import LiveServer, wait_until

LATER = timedelta(hours=1)


def make_service(job_store: JobStore, catalog: Catalog, tmp_path: Path) -> tuple[GenerationService, RecordingGenerator]:
    generator = RecordingGenerator()
    service = GenerationService(
        jobs=job_store, objects=LocalObjectStore(tmp_path / "objects", prefix="ai-generated/"),
        parser=LocalPromptParser(catalog), generator=generator, catalog=catalog, webhook_url="http://127.0.0.1:9/hook",
    )
    return service, generator


def test_young_pending_jobs_are_left_to_their_own_dispatch(job_store: JobStore):
    job_store.create(new_job())
    assert job_store.claim_stale_pending(older_than_s=60) is None


def test_stale_pending_jobs_are_claimed_oldest_first_each_once(job_store: JobStore):
    first, second = job_store.create(new_job(prompt="first")), job_store.create(new_job(prompt="second"))
    later = datetime.now(UTC) + LATER
    claimed = job_store.claim_stale_pending(older_than_s=60, now=later)
    assert (claimed.id, claimed.status, claimed.started_at is not None) == (first.id, JobStatus.PROCESSING, True)
    assert job_store.claim_stale_pending(older_than_s=60, now=later).id == second.id
    assert job_store.claim_stale_pending(older_than_s=60, now=later) is None


def test_silent_processing_jobs_are_failed_with_the_reason_and_others_are_untouched(job_store: JobStore):
    silent = job_store.mark_processing(job_store.create(new_job()).id)
    done = job_store.mark_processing(job_store.create(new_job()).id)
    job_store.mark_completed(done.id, "k", "u", 1)
    pending = job_store.create(new_job())
    assert job_store.fail_stale_processing(600, "late", now=datetime.now(UTC)) == []
    reaped = job_store.fail_stale_processing(600, "the GPU worker did not report within 10 min", now=datetime.now(UTC) + LATER)
    assert [j.id for j in reaped] == [silent.id]
    failed = job_store.get(silent.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, "the GPU worker did not report within 10 min")
    assert failed.processing_time_ms is not None
    assert job_store.get(done.id).status is JobStatus.COMPLETED and job_store.get(pending.id).status is JobStatus.PENDING


@pytest.mark.postgres
@pytest.mark.slow
def test_two_processes_claiming_side_by_side_dispatch_each_job_exactly_once(pg_store, pg_url):
    ids = {pg_store.create(new_job(user_id=f"u{i % 5}")).id for i in range(60)}
    other_process = PostgresJobStore(open_pool(pg_url, max_size=8))
    later = datetime.now(UTC) + LATER
    claims: list[str] = []
    start = threading.Barrier(8)

    def claimer(store: JobStore) -> None:
        start.wait()
        while (job := store.claim_stale_pending(10, now=later)) is not None:
            claims.append(job.id)

    threads = [threading.Thread(target=claimer, args=([pg_store, other_process][i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    other_process.close()
    assert len(claims) == len(set(claims)) == 60 and set(claims) == ids


def test_a_recovery_pass_hands_over_stale_jobs_once_and_reaps_silent_ones(sqlite_store, catalog, tmp_path):
    service, generator = make_service(sqlite_store, catalog, tmp_path)
    left_behind = service.create_job("alice", GenerateCommand(prompt="a fox", style="anime", product="mug"))
    recovery = JobRecovery(service, sqlite_store, RecoveryPolicy(pending_grace_s=10, processing_deadline_s=600))
    assert recovery.run_once().redispatched == []  # still within its grace period
    report = recovery.run_once(now=datetime.now(UTC) + timedelta(seconds=11))
    assert report.redispatched == [left_behind.id] and report.reaped == []
    assert [r.job_id for r in generator.requests] == [left_behind.id]
    # the request's own dispatch, arriving late, must not send it a second time
    assert service.dispatch(left_behind.id).status is JobStatus.PROCESSING
    assert len(generator.requests) == 1
    report = recovery.run_once(now=datetime.now(UTC) + timedelta(minutes=11))
    assert report.reaped == [left_behind.id]
    assert service.jobs.get(left_behind.id).error == "the GPU worker did not report within 10 min"


def test_a_job_reaped_while_its_image_uploads_keeps_no_image(sqlite_store, catalog, tmp_path):
    service, _ = make_service(sqlite_store, catalog, tmp_path)
    job = service.submit("alice", GenerateCommand(prompt="a fox", style="anime", product="mug"))
    real_put = service.objects.put_png

    def put_then_reaper_strikes(key: str, data: bytes) -> None:
        real_put(key, data)
        sqlite_store.fail_stale_processing(0, "reaped", now=datetime.now(UTC) + LATER)

    service.objects.put_png = put_then_reaper_strikes  # type: ignore[method-assign]
    png = solid_png(job.width, job.height)
    with pytest.raises(InvalidTransition):
        service.apply_outcome(GenerationOutcome(job_id=job.id, status="completed", png=png))
    assert service.jobs.get(job.id).status is JobStatus.FAILED
    assert service.objects.usage().objects == 0


def test_the_recovery_loop_runs_at_start_and_stops(sqlite_store, catalog, tmp_path):
    service, generator = make_service(sqlite_store, catalog, tmp_path)
    job = service.create_job("alice", GenerateCommand(prompt="a fox", style="anime", product="mug"))
    loop = recovery_loop(JobRecovery(service, sqlite_store, RecoveryPolicy(pending_grace_s=0)), interval_s=3600).start()
    wait_until(lambda: loop.passes >= 1, what="the start-up pass")
    loop.stop()
    assert [r.job_id for r in generator.requests] == [job.id]


@pytest.mark.slow
def test_a_restarted_app_finishes_the_jobs_a_crashed_one_left_pending(tmp_path):
    settings = make_settings(tmp_path, TENKAIGEN_PENDING_GRACE_S=0)
    crashed = create_app(make_settings(tmp_path))  # never started: its lifespan never ran
    service = crashed.state.services.generation
    left = [service.create_job("local", GenerateCommand(prompt=f"fox {i}", style="anime", product="sticker")) for i in range(3)]
    service.jobs.close()
    with TestClient(create_app(settings)) as client:
        for job in left:
            wait_until(lambda j=job: client.get(f"/api/generate/status/{j.id}").json()["status"] == "completed",
                       what=f"job {job.id} to complete after the restart")
    assert len(list((tmp_path / "objects").rglob("*.png"))) == 3


@pytest.mark.slow
def test_a_worker_that_never_reports_gets_its_job_failed_and_a_late_result_is_refused(tmp_path, webhook_secret):
    worker = FakeWorker(secret=webhook_secret, hold=True)
    with LiveServer(worker.app()) as worker_server:
        settings = make_settings(tmp_path, MODAL_GENERATE_ENDPOINT=worker_server.url, TENKAIGEN_WEBHOOK_SECRET=webhook_secret,
                                 TENKAIGEN_JOB_DEADLINE_S=300)
        with TestClient(create_app(settings)) as client:
            body = {"prompt": "a fox", "style": "anime", "product": "sticker"}
            job_id = client.post("/api/generate", json=body).json()["job_id"]
            wait_until(lambda: worker.received, what="the dispatch")
            report = client.app.state.services.recovery.run_once(now=datetime.now(UTC) + timedelta(minutes=6))
            assert report.reaped == [job_id]
            status = client.get(f"/api/generate/status/{job_id}").json()
            assert (status["status"], status["error"]) == ("failed", "the GPU worker did not report within 5 min")
            job = client.app.state.services.generation.jobs.get(job_id)
            late = WebhookPayload(job_id=job_id, status="completed",
                                  image_base64=base64.b64encode(solid_png(job.width, job.height)).decode())
            body, headers = WebhookSigner(webhook_secret).signed_body(late)
            assert client.post("/api/generate/webhook", content=body, headers=headers).status_code == 409
            assert client.app.state.services.generation.objects.usage().objects == 0


# --- in-process jobs of a process that is gone -----------------------------------------------------
def in_process_service(job_store: JobStore, catalog: Catalog, tmp_path: Path) -> GenerationService:
    """One app process: its own runner id, an in-process generator that holds its jobs."""
    return GenerationService(
        jobs=job_store, objects=LocalObjectStore(tmp_path / "objects", prefix="ai-generated/"),
        parser=LocalPromptParser(catalog), generator=RecordingGenerator(runs_in_process=True), catalog=catalog,
        webhook_url="http://127.0.0.1:9/hook",
    )


POLICY = RecoveryPolicy(pending_grace_s=10, processing_deadline_s=600, heartbeat_timeout_s=90)


def test_in_process_jobs_of_a_killed_process_fail_once_its_heartbeat_stops_not_at_the_deadline(job_store, catalog, tmp_path):
    killed = in_process_service(job_store, catalog, tmp_path)
    JobRecovery(killed, job_store, POLICY).run_once()  # it was alive and beating
    left = killed.submit("alice", GenerateCommand(prompt="a fox", style="anime", product="mug"))
    restarted = JobRecovery(in_process_service(job_store, catalog, tmp_path), job_store, POLICY)
    assert restarted.run_once(now=datetime.now(UTC) + timedelta(seconds=60)).orphaned == []  # its heartbeat is recent
    report = restarted.run_once(now=datetime.now(UTC) + timedelta(seconds=100))
    assert (report.orphaned, report.reaped) == ([left.id], [])
    failed = job_store.get(left.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, "the app restarted before this job finished; please retry")


def test_a_live_process_keeps_its_in_process_jobs_however_long_they_wait(job_store, catalog, tmp_path):
    busy = in_process_service(job_store, catalog, tmp_path)
    queued = busy.submit("alice", GenerateCommand(prompt="a fox", style="anime", product="mug"))
    other = JobRecovery(in_process_service(job_store, catalog, tmp_path), job_store, POLICY)
    later = datetime.now(UTC) + timedelta(seconds=300)
    JobRecovery(busy, job_store, POLICY).run_once(now=later)  # still beating
    assert other.run_once(now=later).orphaned == []
    assert JobRecovery(busy, job_store, POLICY).run_once(now=later).orphaned == []  # never its own
    assert job_store.get(queued.id).status is JobStatus.PROCESSING


def test_a_remote_workers_jobs_are_left_to_the_deadline(job_store, catalog, tmp_path):
    service, _ = make_service(job_store, catalog, tmp_path)
    sent = service.submit("alice", GenerateCommand(prompt="a fox", style="anime", product="mug"))
    other = JobRecovery(in_process_service(job_store, catalog, tmp_path), job_store, POLICY)
    assert other.run_once(now=datetime.now(UTC) + timedelta(seconds=300)).orphaned == []
    assert job_store.get(sent.id).status is JobStatus.PROCESSING


@pytest.mark.slow
def test_a_draft_job_left_processing_by_a_killed_app_fails_after_the_restart_with_the_reason(tmp_path):
    settings = make_settings(tmp_path, TENKAIGEN_RECOVERY_INTERVAL_S=60)  # a heartbeat older than 3 min: gone
    killed = create_app(settings)  # never served: its state is what a kill -9 leaves
    killed.state.services.recovery.run_once()  # it beat while it was alive
    service = killed.state.services.generation
    job = service.create_job("local", GenerateCommand(prompt="a fox", style="anime", product="sticker"))
    service.jobs.mark_processing(job.id)
    service.jobs.record_runner(job.id, service.runner)  # what its draft renderer was running
    service.jobs.close()
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/api/generate/status/{job.id}").json()["status"] == "processing"  # its heartbeat is fresh
        report = client.app.state.services.recovery.run_once(now=datetime.now(UTC) + timedelta(minutes=4))
        assert (report.orphaned, report.reaped) == ([job.id], [])
        status = client.get(f"/api/generate/status/{job.id}").json()
    assert (status["status"], status["error"]) == ("failed", "the app restarted before this job finished; please retry")


def test_in_process_jobs_of_a_process_that_never_beat_fail_after_the_pending_grace(sqlite_store, catalog, tmp_path):
    never_beat = in_process_service(sqlite_store, catalog, tmp_path)
    job = never_beat.submit("alice", GenerateCommand(prompt="a fox", style="anime", product="mug"))
    other = JobRecovery(in_process_service(sqlite_store, catalog, tmp_path), sqlite_store, POLICY)
    assert other.run_once().orphaned == []  # within the grace: it may still be starting
    assert other.run_once(now=datetime.now(UTC) + timedelta(seconds=11)).orphaned == [job.id]
