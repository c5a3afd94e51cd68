import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from core.jobs import ALLOWED_TRANSITIONS, JobStatus, can_transition, sources_of
from core.jobs.queries import sqlite_schema


def test_the_happy_path_is_pending_processing_completed():
    assert can_transition(JobStatus.PENDING, JobStatus.PROCESSING)
    assert can_transition(JobStatus.PROCESSING, JobStatus.COMPLETED)


def test_a_job_can_be_canceled_while_pending_or_processing_only():
    assert sources_of(JobStatus.CANCELED) == (JobStatus.PENDING, JobStatus.PROCESSING)


def test_finished_jobs_never_move_again():
    for status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED):
        assert status.is_terminal
        assert ALLOWED_TRANSITIONS[status] == frozenset()


def test_a_pending_job_cannot_complete_or_fail_without_processing():
    assert not can_transition(JobStatus.PENDING, JobStatus.COMPLETED)
    assert not can_transition(JobStatus.PENDING, JobStatus.FAILED)


# --- the databases enforce the same machine ----------------------------------------------
# Every (from, to) pair is tried on a real row; the trigger must refuse exactly the pairs
# the code refuses. Same-status updates are not transitions (progress, say) and pass.
ILLEGAL = "illegal generation job transition"
EVERY_CHANGE = [(source, target) for source in JobStatus for target in JobStatus if source != target]
ALLOWED_BY_CODE = {(source, target) for source, target in EVERY_CHANGE if can_transition(source, target)}


def test_the_sqlite_trigger_allows_exactly_the_transitions_the_code_allows(tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "jobs.sqlite3", isolation_level=None)
    conn.executescript(sqlite_schema())

    def insert_job(status: JobStatus) -> str:
        job_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO generation_jobs (id, user_id, prompt, style, product, status, width, height, "
            "storage_key, image_url, created_at, updated_at) "
            "VALUES (?, 'u', 'a fox', 'anime', 'mug', ?, 64, 64, 'k.png', 'http://x/k.png', 'now', 'now')",
            (job_id, status.value),
        )
        return job_id

    allowed = set()
    for source, target in EVERY_CHANGE:
        job_id = insert_job(source)
        try:
            conn.execute("UPDATE generation_jobs SET status = ? WHERE id = ?", (target.value, job_id))
        except sqlite3.IntegrityError as exc:
            assert ILLEGAL in str(exc)
        else:
            allowed.add((source, target))
    for status in JobStatus:
        job_id = insert_job(status)
        conn.execute("UPDATE generation_jobs SET status = ?, progress_step = 1 WHERE id = ?", (status.value, job_id))
    conn.close()

    assert allowed == ALLOWED_BY_CODE


@pytest.mark.postgres
@pytest.mark.slow
def test_the_postgres_trigger_allows_exactly_the_transitions_the_code_allows(pg_url: str):
    allowed = set()
    with psycopg.connect(pg_url) as conn:

        def insert_job(status: JobStatus) -> str:
            return conn.execute(
                "INSERT INTO generation_jobs (user_id, prompt, style, product, status, width, height, "
                "storage_key, image_url) "
                "VALUES ('u', 'a fox', 'anime', 'mug', %s, 64, 64, 'k.png', 'http://x/k.png') RETURNING id",
                (status.value,),
            ).fetchone()[0]

        for source, target in EVERY_CHANGE:
            job_id = insert_job(source)
            try:
                with conn.transaction():  # a savepoint: a refused UPDATE leaves the rest going
                    conn.execute("UPDATE generation_jobs SET status = %s WHERE id = %s", (target.value, job_id))
            except psycopg.errors.CheckViolation as exc:
                assert ILLEGAL in str(exc)
            else:
                allowed.add((source, target))
        for status in JobStatus:
            job_id = insert_job(status)
            conn.execute(
                "UPDATE generation_jobs SET status = %s, progress_step = 1 WHERE id = %s", (status.value, job_id)
            )
        conn.rollback()  # leave the shared database as it was

    assert allowed == ALLOWED_BY_CODE
