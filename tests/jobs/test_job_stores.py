"""Every JobStore behaves the same on SQLite and on the real Postgres server."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from core.errors import InvalidTransition, JobNotFound
from core.jobs import ALLOWED_TRANSITIONS, Job, JobStatus, JobStore, NewJob
from core.jobs.sqlite_store import SqliteJobStore


def new_job(user_id: str = "alice", prompt: str = "a red fox") -> NewJob:
    return NewJob(
        user_id=user_id, prompt=prompt, parsed_prompt={"subject": "fox", "colors": ["red"]},
        style="anime", product="t-shirt", width=1104, height=1472, seed=42, model="draft-renderer",
    )


def move(store: JobStore, job: Job, target: JobStatus) -> Job:
    if target is JobStatus.PROCESSING:
        return store.mark_processing(job.id)
    if target is JobStatus.COMPLETED:
        return store.mark_completed(job.id, f"ai-generated/alice/{job.id}.png", f"/media/{job.id}.png", 7)
    if target is JobStatus.FAILED:
        return store.mark_failed(job.id, "boom")
    if target is JobStatus.CANCELED:
        return store.mark_canceled(job.id)
    raise AssertionError(target)


def job_in(store: JobStore, status: JobStatus, new: NewJob | None = None) -> Job:
    """A fresh job (`new`, else new_job()) brought to `status` by legal transitions."""
    job = store.create(new or new_job())
    path = {
        JobStatus.PENDING: [],
        JobStatus.PROCESSING: [JobStatus.PROCESSING],
        JobStatus.COMPLETED: [JobStatus.PROCESSING, JobStatus.COMPLETED],
        JobStatus.FAILED: [JobStatus.PROCESSING, JobStatus.FAILED],
        JobStatus.CANCELED: [JobStatus.CANCELED],
    }[status]
    for step in path:
        job = move(store, job, step)
    return job


def test_a_created_job_is_pending_and_can_be_read_back(job_store: JobStore):
    job = job_store.create(new_job())
    assert job.status is JobStatus.PENDING
    again = job_store.get(job.id)
    assert again.model_dump() == job.model_dump()
    assert again.parsed_prompt == {"subject": "fox", "colors": ["red"]}


def test_the_happy_path_records_start_completion_and_processing_time(job_store: JobStore):
    job = job_store.create(new_job())
    processing = job_store.mark_processing(job.id)
    assert processing.status is JobStatus.PROCESSING and processing.started_at is not None
    done = job_store.mark_completed(job.id, "ai-generated/alice/x.png", "https://cdn/x.png", 99)
    assert done.status is JobStatus.COMPLETED
    assert (done.storage_key, done.image_url, done.seed) == ("ai-generated/alice/x.png", "https://cdn/x.png", 99)
    assert done.completed_at is not None and done.completed_at >= done.started_at
    assert done.processing_time_ms is not None and done.processing_time_ms >= 0



def start_earlier(store: JobStore, job_id: str, seconds: float) -> None:
    """Move a processing job's start back by `seconds`, on the store's own clock (no sleeping)."""
    if isinstance(store, SqliteJobStore):
        started = store.get(job_id).started_at - timedelta(seconds=seconds)
        store._conn.execute("UPDATE generation_jobs SET started_at = ? WHERE id = ?",
                            (started.isoformat(sep=" ", timespec="microseconds"), job_id))
    else:
        with store._pool.connection() as conn:
            conn.execute("UPDATE generation_jobs SET started_at = started_at - make_interval(secs => %s) "
                         "WHERE id = %s", (seconds, job_id))


@pytest.mark.parametrize("ending", ["completed", "failed", "failed-stale"])
def test_the_processing_time_is_the_time_from_start_to_the_end(job_store: JobStore, ending: str):
    job = job_in(job_store, JobStatus.PROCESSING)
    start_earlier(job_store, job.id, 2.5)
    if ending == "completed":
        done = job_store.mark_completed(job.id, "ai-generated/alice/x.png", "/media/x.png", 1)
    elif ending == "failed":
        done = job_store.mark_failed(job.id, "boom")
    else:
        later = datetime.now(UTC) + timedelta(seconds=10)  # the recovery loop's view: quiet for 10 s
        [done] = job_store.fail_stale_processing(older_than_s=5.0, error="the worker went quiet", now=later)
    elapsed_ms = (done.completed_at - done.started_at).total_seconds() * 1000
    assert 2500 <= elapsed_ms < 60_000
    assert done.processing_time_ms is not None and abs(done.processing_time_ms - elapsed_ms) <= 1

def test_a_failed_job_keeps_its_error(job_store: JobStore):
    job = job_in(job_store, JobStatus.PROCESSING)
    failed = job_store.mark_failed(job.id, "CUDA out of memory")
    assert failed.status is JobStatus.FAILED and failed.error == "CUDA out of memory"


ILLEGAL = [
    (source, target)
    for source, target in itertools.product(JobStatus, [s for s in JobStatus if s is not JobStatus.PENDING])
    if target not in ALLOWED_TRANSITIONS[source]
]


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{s}-to-{t}" for s, t in ILLEGAL])
def test_every_illegal_transition_is_refused_and_changes_nothing(job_store: JobStore, source: JobStatus, target: JobStatus):
    job = job_in(job_store, source)
    with pytest.raises(InvalidTransition) as refused:
        move(job_store, job, target)
    assert refused.value.current == source.value
    assert job_store.get(job.id).model_dump() == job.model_dump()


def test_a_repeated_transition_is_refused(job_store: JobStore):
    job = job_in(job_store, JobStatus.PROCESSING)
    with pytest.raises(InvalidTransition):
        job_store.mark_processing(job.id)


def test_an_unknown_job_is_not_found(job_store: JobStore):
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(JobNotFound):
        job_store.get(missing)
    with pytest.raises(JobNotFound):
        job_store.mark_processing(missing)


def test_a_malformed_job_id_is_not_found(job_store: JobStore):
    with pytest.raises(JobNotFound):
        job_store.get("not-a-uuid")


def test_history_lists_a_users_jobs_newest_first_and_pages(job_store: JobStore):
    ids = [job_store.create(new_job(prompt=f"design {i}")).id for i in range(5)]
    job_store.create(new_job(user_id="bob"))
    page_one = job_store.list_for_user("alice", limit=3)
    page_two = job_store.list_for_user("alice", limit=3, offset=3)
    assert [j.id for j in page_one + page_two] == list(reversed(ids))
    assert all(j.user_id == "alice" for j in page_one + page_two)


def test_progress_is_recorded_only_while_processing(job_store: JobStore):
    pending = job_store.create(new_job())
    job_store.record_progress(pending.id, 3, 8)
    assert job_store.get(pending.id).progress_step is None
    running = job_store.mark_processing(pending.id)
    job_store.record_progress(running.id, 3, 8)
    assert (job_store.get(running.id).progress_step, job_store.get(running.id).progress_total) == (3, 8)


def test_the_workers_queue_news_is_kept_only_until_the_first_progress(job_store: JobStore):
    pending = job_store.create(new_job())
    job_store.record_worker_queue(pending.id, "starting", 2)
    assert job_store.get(pending.id).gpu_wait is None  # not dispatched: nothing to say
    running = job_store.mark_processing(pending.id)
    job_store.record_worker_queue(running.id, "starting", 2)
    assert (job_store.get(running.id).gpu_wait, job_store.get(running.id).queue_ahead) == ("starting", 2)
    job_store.record_progress(running.id, 0, 8)
    job_store.record_worker_queue(running.id, "queued", 5)  # a late answer after the GPU took it
    assert (job_store.get(running.id).gpu_wait, job_store.get(running.id).queue_ahead) == ("starting", 2)


def test_queue_position_counts_pending_jobs_created_before_it(job_store: JobStore):
    first, second, third = (job_store.create(new_job(user_id=u)) for u in ("alice", "bob", "alice"))
    assert [job_store.queue_position(j.id) for j in (first, second, third)] == [0, 1, 2]
    job_store.mark_processing(first.id)
    job_store.mark_canceled(second.id)
    assert job_store.queue_position(third.id) == 0


def test_queue_position_is_none_once_a_job_left_the_queue(job_store: JobStore):
    for status in (JobStatus.PROCESSING, JobStatus.COMPLETED, JobStatus.CANCELED):
        assert job_store.queue_position(job_in(job_store, status).id) is None


def test_queue_position_of_an_unknown_job_is_not_found(job_store: JobStore):
    with pytest.raises(JobNotFound):
        job_store.queue_position("00000000-0000-4000-8000-000000000000")


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_itself_refuses_an_illegal_update(pg_store, pg_url: str):
    job = job_in(pg_store, JobStatus.COMPLETED)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE generation_jobs SET status = 'pending' WHERE id = %s", (job.id,))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE generation_jobs SET status = 'bogus' WHERE id = %s", (job.id,))


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_refuses_a_completed_job_without_its_image(pg_store, pg_url: str):
    job = job_in(pg_store, JobStatus.PROCESSING)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE generation_jobs SET status = 'completed' WHERE id = %s", (job.id,))


def test_sqlite_itself_refuses_an_illegal_update(sqlite_store):
    import sqlite3

    job = job_in(sqlite_store, JobStatus.FAILED)
    with pytest.raises(sqlite3.IntegrityError):
        sqlite_store._conn.execute("UPDATE generation_jobs SET status = 'processing' WHERE id = ?", (job.id,))


@pytest.mark.postgres
@pytest.mark.slow
def test_the_seed_monitoring_query_runs_unchanged(pg_store, pg_url: str):
    job_in(pg_store, JobStatus.COMPLETED)
    job_in(pg_store, JobStatus.FAILED)
    seed_query = """
SELECT 
  COUNT(*) as total_generations,
  COUNT(CASE WHEN status = 'completed' THEN 1 END) as successful,
  AVG(processing_time_ms) as avg_time_ms
FROM generation_jobs
WHERE created_at > NOW() - INTERVAL '30 days';
"""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        total, successful, avg_ms = conn.execute(seed_query).fetchone()
    assert (total, successful) == (2, 1)
    assert avg_ms is not None


def test_a_sqlite_file_from_before_runners_gains_the_new_columns_when_opened(tmp_path):
    path = tmp_path / "old.sqlite3"
    SqliteJobStore(path).close()
    with sqlite3.connect(path) as conn:  # the file as an older release left it
        conn.execute("ALTER TABLE generation_jobs DROP COLUMN runner")
        conn.execute("ALTER TABLE generation_jobs DROP COLUMN upload_failures")
    store = SqliteJobStore(path)
    job = store.mark_processing(store.create(new_job()).id)
    store.record_runner(job.id, "remote")
    assert store.record_upload_failure(job.id, "bucket down") == 1
    assert (store.get(job.id).runner, store.get(job.id).upload_failures) == ("remote", 1)
    store.close()


def test_a_callback_is_owed_until_delivered_or_abandoned_and_counts_its_attempts(job_store: JobStore):
    from datetime import UTC, datetime, timedelta

    later = datetime.now(UTC) + timedelta(minutes=5)
    owed = job_store.create(new_job().model_copy(update={"callback_url": "https://hooks.example.com/a"}))
    other = job_store.create(new_job().model_copy(update={"callback_url": "https://hooks.example.com/b"}))
    silent = job_store.create(new_job())
    for job in (owed, other, silent):
        job_store.mark_canceled(job.id)
    assert job_store.get(owed.id).callback_url == "https://hooks.example.com/a"
    assert job_store.owed_callbacks(60) == []  # finished too recently
    assert {j.id for j in job_store.owed_callbacks(60, now=later)} == {owed.id, other.id}
    assert job_store.record_callback_attempt(owed.id, None).callback_attempts == 1
    done = job_store.record_callback_attempt(owed.id, "delivered")
    assert (done.callback_attempts, done.callback_state) == (2, "delivered")
    job_store.abandon_callback(other.id)
    assert job_store.get(other.id).callback_state == "abandoned"
    assert job_store.owed_callbacks(60, now=later) == []
    with pytest.raises(JobNotFound):
        job_store.record_callback_attempt("00000000-0000-0000-0000-000000000000", None)


def test_an_sqlite_file_from_before_callbacks_gains_their_columns(tmp_path):
    import sqlite3

    from core.jobs.sqlite_store import SqliteJobStore

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE generation_jobs (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, prompt TEXT NOT NULL, "
            "parsed_prompt TEXT NOT NULL DEFAULT '{}', style TEXT NOT NULL, product TEXT NOT NULL, "
            "status TEXT NOT NULL DEFAULT 'pending', width INTEGER NOT NULL, height INTEGER NOT NULL, seed INTEGER, "
            "model TEXT, storage_key TEXT, image_url TEXT, error TEXT, processing_time_ms INTEGER, "
            "progress_step INTEGER, progress_total INTEGER, created_at TEXT NOT NULL, started_at TEXT, "
            "completed_at TEXT, updated_at TEXT NOT NULL)"
        )
    for _ in range(2):  # opening again adds nothing twice
        store = SqliteJobStore(path)
        job = store.create(new_job().model_copy(update={"callback_url": "https://hooks.example.com/a"}))
        assert (job.callback_url, job.callback_attempts, job.callback_state) == ("https://hooks.example.com/a", 0, None)
        store.close()
