"""Per-user limits: counted in the database, race-free, answered 429 with Retry-After."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.errors import QuotaExceeded
from core.jobs import JobStore
from core.jobs.postgres_store import PostgresJobStore, open_pool
from core.jobs.quotas import QuotaLimits, QuotaUsage, binding_limit, check_batch_quota, check_quota
from tests.jobs.test_job_stores import new_job
from tests.support.apps import make_settings

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def usage(**counts) -> QuotaUsage:
    return QuotaUsage(now=NOW, **{"last_minute": 0, "last_day": 0, "in_flight": 0, **counts})


def test_under_every_limit_passes_and_zero_means_unlimited():
    check_quota(usage(last_minute=9, last_day=199, in_flight=3), QuotaLimits(10, 200, 4))
    check_quota(usage(last_minute=10_000, last_day=10_000, in_flight=10_000), QuotaLimits(0, 0, 0))
    assert QuotaLimits().unlimited and not QuotaLimits(per_day=1).unlimited


def test_the_minute_limit_says_when_the_oldest_job_leaves_the_window():
    with pytest.raises(QuotaExceeded) as refused:
        check_quota(usage(last_minute=10, oldest_in_minute=NOW - timedelta(seconds=45)), QuotaLimits(per_minute=10))
    assert refused.value.retry_after == 15
    assert "10 designs per minute" in str(refused.value)


def test_the_day_limit_says_when_a_slot_frees():
    with pytest.raises(QuotaExceeded) as refused:
        check_quota(usage(last_day=200, oldest_in_day=NOW - timedelta(hours=20)), QuotaLimits(per_day=200))
    assert refused.value.retry_after == 4 * 3600
    assert "4 h 0 min" in str(refused.value)


def test_the_in_flight_limit_asks_to_wait_for_a_job():
    with pytest.raises(QuotaExceeded, match="in progress") as refused:
        check_quota(usage(in_flight=4), QuotaLimits(in_flight=4))
    assert refused.value.retry_after >= 1


def test_a_store_refuses_the_job_over_the_minute_limit_until_the_window_moves(job_store: JobStore):
    limits = QuotaLimits(per_minute=2)
    for _ in range(2):
        job_store.create_within_quota(new_job(), limits)
    with pytest.raises(QuotaExceeded) as refused:
        job_store.create_within_quota(new_job(), limits)
    assert 55 <= refused.value.retry_after <= 60
    job_store.create_within_quota(new_job(user_id="bob"), limits)  # limits are per user
    later = datetime.now(UTC) + timedelta(seconds=61)
    job_store.create_within_quota(new_job(), limits, now=later)
    assert len(job_store.list_for_user("alice")) == 3


def test_a_store_counts_pending_and_processing_as_in_flight(job_store: JobStore):
    limits = QuotaLimits(in_flight=2)
    first = job_store.create_within_quota(new_job(), limits)
    job_store.mark_processing(job_store.create_within_quota(new_job(), limits).id)
    with pytest.raises(QuotaExceeded):
        job_store.create_within_quota(new_job(), limits)
    job_store.mark_canceled(first.id)
    job_store.create_within_quota(new_job(), limits)
    assert job_store.quota_usage("alice").in_flight == 2



@pytest.mark.parametrize(
    "limits", [QuotaLimits(in_flight=2), QuotaLimits(per_minute=2), QuotaLimits(per_day=2)],
    ids=["in-flight", "per-minute", "per-day"],
)
def test_each_limit_counts_the_users_own_jobs_only(job_store: JobStore, limits: QuotaLimits):
    """bob at his limit, with jobs pending and processing, takes nothing from alice's."""
    job_store.mark_processing(job_store.create_within_quota(new_job(user_id="bob"), limits).id)
    job_store.create_within_quota(new_job(user_id="bob"), limits)
    with pytest.raises(QuotaExceeded):
        job_store.create_within_quota(new_job(user_id="bob"), limits)
    alice = job_store.quota_usage("alice")
    assert (alice.last_minute, alice.last_day, alice.in_flight) == (0, 0, 0)
    for _ in range(2):
        job_store.create_within_quota(new_job(user_id="alice"), limits)
    usage_of = {user: job_store.quota_usage(user) for user in ("alice", "bob")}
    assert {user: (u.last_minute, u.last_day, u.in_flight) for user, u in usage_of.items()} == {
        "alice": (2, 2, 2), "bob": (2, 2, 2)}


def test_a_batch_refused_by_the_minute_limit_names_it_and_when_it_frees():
    # the reported bug: two batches of 4 made, nothing running, a third refused as if jobs were in flight
    counted = usage(last_minute=8, last_day=8, in_flight=0, oldest_in_minute=NOW - timedelta(seconds=20),
                    oldest_in_day=NOW - timedelta(seconds=20))
    with pytest.raises(QuotaExceeded) as refused:
        check_batch_quota(counted, QuotaLimits(per_minute=10, per_day=200, in_flight=4), 4)
    message = str(refused.value)
    assert "per-minute limit" in message and "room for 2 now" in message and "in 40 s" in message
    assert "in progress" not in message and "finish" not in message
    assert refused.value.retry_after == 40


def test_when_several_limits_refuse_the_one_that_frees_last_binds():
    counted = usage(last_minute=10, last_day=200, in_flight=4, oldest_in_minute=NOW - timedelta(seconds=50),
                    oldest_in_day=NOW - timedelta(hours=23))
    limits = QuotaLimits(per_minute=10, per_day=200, in_flight=4)
    assert binding_limit(counted, limits).name == "per-day"
    with pytest.raises(QuotaExceeded, match="per-day limit") as refused:
        check_quota(counted, limits)
    assert refused.value.retry_after == 3600


def test_a_batch_larger_than_a_limit_says_how_many_images_one_request_may_ask_for():
    with pytest.raises(QuotaExceeded, match="at most 3 images"):
        check_batch_quota(usage(), QuotaLimits(per_minute=3), 4)


def test_a_store_names_the_binding_window_and_its_time_from_an_injected_clock(job_store: JobStore):
    limits = QuotaLimits(per_minute=10, per_day=12, in_flight=0)
    made = [job_store.create_within_quota(new_job(), limits) for _ in range(8)]
    oldest = min(job.created_at for job in made)
    later = oldest + timedelta(seconds=35)
    binding = binding_limit(job_store.quota_usage("alice", now=later), limits, count=4)
    assert (binding.name, binding.room, binding.frees_in_s) == ("per-minute", 2, 25)
    a_minute_on = oldest + timedelta(seconds=61)
    binding = binding_limit(job_store.quota_usage("alice", now=a_minute_on), limits, count=5)
    assert (binding.name, binding.room, binding.frees_in_s) == ("per-day", 4, 24 * 3600 - 61)
    assert binding_limit(job_store.quota_usage("alice", now=a_minute_on), limits, count=4) is None


@pytest.mark.postgres
@pytest.mark.slow
def test_concurrent_submissions_from_two_processes_never_overshoot_the_limit(pg_store, pg_url):
    other_process = PostgresJobStore(open_pool(pg_url, max_size=8))
    stores = [pg_store, other_process]
    limits = QuotaLimits(per_minute=5)
    created, refused = [], []
    start = threading.Barrier(16)

    def submit(i: int) -> None:
        start.wait()
        try:
            created.append(stores[i % 2].create_within_quota(new_job(user_id="racer"), limits).id)
        except QuotaExceeded:
            refused.append(i)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    other_process.close()
    assert (len(created), len(refused)) == (5, 11)
    assert len(pg_store.list_for_user("racer", limit=100)) == 5


def test_over_the_limit_the_api_answers_429_with_retry_after(tmp_path):
    settings = make_settings(tmp_path, TENKAIGEN_QUOTA_PER_MINUTE=2, TENKAIGEN_QUOTA_IN_FLIGHT=0)
    body = {"prompt": "a red fox", "style": "anime", "product": "mug"}
    with TestClient(create_app(settings)) as client:
        assert [client.post("/api/generate", json=body).status_code for _ in range(2)] == [202, 202]
        refused = client.post("/api/generate", json=body)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "2 designs per minute" in refused.json()["detail"]
        assert client.get("/api/me").json()["quota"]["used_last_minute"] == 2


def test_a_third_batch_over_the_minute_limit_answers_429_naming_it_with_its_retry_after(tmp_path):
    settings = make_settings(tmp_path, TENKAIGEN_QUOTA_PER_MINUTE=10, TENKAIGEN_QUOTA_IN_FLIGHT=0)
    body = {"prompt": "a red fox", "style": "anime", "product": "mug", "images": 4}
    with TestClient(create_app(settings)) as client:
        assert [client.post("/api/generate", json=body).status_code for _ in range(2)] == [202, 202]
        refused = client.post("/api/generate", json=body)
        assert refused.status_code == 429
        assert "per-minute limit" in refused.json()["detail"] and "room for 2" in refused.json()["detail"]
        assert 50 <= int(refused.headers["retry-after"]) <= 60


def test_the_studio_shows_the_same_quota_message_as_the_api():
    from ui.errors import as_gradio_error

    counted = usage(last_minute=8, oldest_in_minute=NOW - timedelta(seconds=20))
    with pytest.raises(QuotaExceeded) as refused:
        check_batch_quota(counted, QuotaLimits(per_minute=10), 4)
    assert as_gradio_error(refused.value).message == str(refused.value)
