"""A user's history in every JobStore (SQLite and the real Postgres server): filters,
favourites in any status, and deleting finished jobs only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.errors import JobNotFound, JobNotReady
from core.jobs import HistoryFilter, JobStatus, JobStore, NewJob
from core.jobs.sqlite_store import SqliteJobStore
from tests.jobs.test_job_stores import job_in, new_job


def made(store: JobStore, status: JobStatus, *, user: str = "alice", style: str = "anime",
         product: str = "t-shirt", prompt: str = "a fox") -> str:
    new = NewJob(user_id=user, prompt=prompt, style=style, product=product, width=64, height=64)
    return job_in(store, status, new).id


def ids(store: JobStore, filters: HistoryFilter, user: str = "alice", **page: int) -> list[str]:
    return [j.id for j in store.history(user, filters, **page)]


def test_history_without_filters_is_every_job_of_the_user_newest_first(job_store: JobStore):
    mine = [made(job_store, status) for status in JobStatus]
    made(job_store, JobStatus.COMPLETED, user="bob")
    assert ids(job_store, HistoryFilter()) == list(reversed(mine))
    assert ids(job_store, HistoryFilter(), limit=2, offset=1) == list(reversed(mine))[1:3]


def test_history_filters_by_status_style_and_product(job_store: JobStore):
    done_anime = made(job_store, JobStatus.COMPLETED)
    done_mug = made(job_store, JobStatus.COMPLETED, style="watercolor", product="mug")
    failed = made(job_store, JobStatus.FAILED, product="mug")
    canceled = made(job_store, JobStatus.CANCELED, style="watercolor")
    running = made(job_store, JobStatus.PROCESSING)
    made(job_store, JobStatus.COMPLETED, user="bob", product="mug")

    assert ids(job_store, HistoryFilter(statuses=frozenset({JobStatus.COMPLETED}))) == [done_mug, done_anime]
    folded = frozenset({JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.COMPLETED})
    assert ids(job_store, HistoryFilter(statuses=folded)) == [running, done_mug, done_anime]
    assert ids(job_store, HistoryFilter(style="watercolor")) == [canceled, done_mug]
    assert ids(job_store, HistoryFilter(product="mug")) == [failed, done_mug]
    assert ids(job_store, HistoryFilter(statuses=frozenset({JobStatus.COMPLETED}), style="watercolor",
                                        product="mug")) == [done_mug]
    assert ids(job_store, HistoryFilter(statuses=frozenset())) == []


def test_a_favourite_can_be_set_and_cleared_in_every_status(job_store: JobStore):
    for status in JobStatus:
        job = job_in(job_store, status)
        marked = job_store.set_favorite(job.id, True)
        assert (marked.favorite, marked.status) == (True, status)
        assert job_store.get(job.id).favorite is True
        assert job_store.set_favorite(job.id, False).favorite is False


def test_a_new_job_is_not_a_favourite(job_store: JobStore):
    assert job_store.create(new_job()).favorite is False


def test_history_filters_favourites(job_store: JobStore):
    loved, plain, failed_loved = (made(job_store, s) for s in (JobStatus.COMPLETED, JobStatus.COMPLETED,
                                                               JobStatus.FAILED))
    bobs = made(job_store, JobStatus.COMPLETED, user="bob")
    for job_id in (loved, failed_loved, bobs):
        job_store.set_favorite(job_id, True)
    assert ids(job_store, HistoryFilter(favorite=True)) == [failed_loved, loved]
    assert ids(job_store, HistoryFilter(favorite=False)) == [plain]
    assert ids(job_store, HistoryFilter(favorite=True, statuses=frozenset({JobStatus.COMPLETED}))) == [loved]


def test_favouriting_an_unknown_job_is_not_found(job_store: JobStore):
    with pytest.raises(JobNotFound):
        job_store.set_favorite("00000000-0000-4000-8000-000000000000", True)


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED])
def test_a_finished_job_can_be_deleted(job_store: JobStore, status: JobStatus):
    job = job_in(job_store, status)
    kept = job_in(job_store, status)
    job_store.delete_finished(job.id)
    with pytest.raises(JobNotFound):
        job_store.get(job.id)
    assert ids(job_store, HistoryFilter()) == [kept.id]


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.PROCESSING])
def test_a_running_job_is_not_deleted(job_store: JobStore, status: JobStatus):
    job = job_in(job_store, status)
    with pytest.raises(JobNotReady, match=f"is {status.value}: cancel it before deleting it"):
        job_store.delete_finished(job.id)
    assert job_store.get(job.id).status is status


def test_deleting_an_unknown_job_is_not_found(job_store: JobStore):
    with pytest.raises(JobNotFound):
        job_store.delete_finished("00000000-0000-4000-8000-000000000000")


# A file made before favourites existed: the jobs table as 015's twin had it.
OLD_JOBS_TABLE = """
CREATE TABLE generation_jobs (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, prompt TEXT NOT NULL, parsed_prompt TEXT NOT NULL DEFAULT '{}',
    style TEXT NOT NULL, product TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', width INTEGER NOT NULL,
    height INTEGER NOT NULL, seed INTEGER, model TEXT, storage_key TEXT, image_url TEXT, error TEXT,
    processing_time_ms INTEGER, progress_step INTEGER, progress_total INTEGER, created_at TEXT NOT NULL,
    started_at TEXT, completed_at TEXT, updated_at TEXT NOT NULL
);
INSERT INTO generation_jobs (id, user_id, prompt, style, product, status, width, height, created_at, updated_at)
VALUES ('old-job', 'alice', 'an old fox', 'anime', 'mug', 'canceled', 64, 64,
        '2024-01-01 00:00:00.000000+00:00', '2024-01-01 00:00:00.000000+00:00');
"""


def test_a_sqlite_file_from_before_favourites_gets_the_column_and_keeps_its_jobs(tmp_path: Path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_JOBS_TABLE)
    for _ in range(2):  # opening it again finds the column there
        store = SqliteJobStore(path)
        assert store.get("old-job").favorite is False
        store.close()
    store = SqliteJobStore(path)
    assert store.set_favorite("old-job", True).favorite is True
    assert ids(store, HistoryFilter(favorite=True)) == ["old-job"]
    store.close()
