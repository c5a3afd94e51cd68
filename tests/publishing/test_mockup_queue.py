"""The official-mockup queue: one queue in the jobs database shared by every app process, a
per-store rate window counted in the same database, and nothing lost to a restart. Two
processes are two Services on one database; time is the fake clock both share with Printful's
stand-in, whose own limit answers 429 past it."""

from __future__ import annotations

import psycopg
import pytest

from core.publishing.mockup_queue import LEASE_S
from core.publishing.store import variant_key
from tests.publishing.conftest import Shop, ShopWorld, unique_prompt

pytestmark = pytest.mark.slow  # moto's S3 server and a Printful stand-in

VARIANT_SETS = [[4011], [4012], [4013], [4016, 4017]]


def request_twelve(a: Shop, b: Shop) -> list[str]:
    """12 mockup requests: 3 designs × 4 variant sets, made through both processes in turn."""
    jobs = [a.completed_job(unique_prompt()) for _ in range(3)]
    made = []
    for i, (job_id, variants) in enumerate((j, v) for j in jobs for v in VARIANT_SETS):
        shop = a if i % 2 == 0 else b
        answer = shop.client.post(f"/api/generate/{job_id}/mockups", json={"variant_ids": variants})
        assert answer.status_code == 202, answer.text
        made.append(job_id)
    return jobs


def drain(world: ShopWorld, shops: list[Shop], jobs: list[str], within_s: float = 900) -> float:
    """Run both processes' queues every 5 fake seconds until every request completed; the time it took."""
    store = shops[0].services.publishing.store
    started = world.clock.now
    while world.clock.now - started < within_s:
        for shop in shops:
            shop.run_queue()
        if all(task_states(store, job_id) == {"completed"} for job_id in jobs):
            return world.clock.now - started
        world.clock.advance(5)
    raise AssertionError(f"not all mockups completed within {within_s} s: {[task_states(store, j) for j in jobs]}")


def _keys() -> list[str]:
    return [variant_key(v) for v in VARIANT_SETS]


def task_states(store, job_id: str) -> set[str]:
    """The states of the job's requests, one per variant set ('missing' for none)."""
    found = set()
    for key in _keys():
        task = store.open_mockups(job_id, key)
        found.add(task.status if task else "missing")
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_world(request, world: ShopWorld) -> ShopWorld:
    if request.param == "postgres":
        pg_url = request.getfixturevalue("pg_url")
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("TRUNCATE printful_mockup_tasks, printful_rate_windows, printful_task_calls, "
                         "printful_store_products")
        world.settings = world.settings.model_copy(update={"database_url": pg_url})
    return world


@pytest.mark.parametrize("per_minute", [10, 2], ids=["established-store", "new-store"])
def test_twelve_requests_from_two_processes_never_exceed_the_stores_limit(shared_world: ShopWorld, per_minute: int):
    world = shared_world
    world.stub.mockup_limit_per_minute = per_minute
    world.settings = world.settings.model_copy(update={"printful_mockup_tasks_per_minute": per_minute})
    a, b = world.open_shop(), world.open_shop()
    jobs = request_twelve(a, b)
    took = drain(world, [a, b], jobs)
    assert len(world.stub.task_calls) == 12  # each request made one task
    assert world.stub.rate_limited == 0  # Printful never had to refuse one
    assert world.stub.max_calls_in_a_minute() <= per_minute
    assert took >= 60 * ((12 - 1) // per_minute)  # the limit bound: the last ones waited for the window
    mockups = [m for job_id in jobs for key in _keys()
               for m in a.services.publishing.store.open_mockups(job_id, key).mockups]
    assert len(mockups) == 12 and all(m.url.endswith(".png") for m in mockups)


def test_a_429_locks_every_process_out_until_retry_after(world: ShopWorld):
    world.stub.mockup_limit_per_minute = 2  # Printful counts less than the app thinks (10): it answers 429
    a, b = world.open_shop(), world.open_shop()
    jobs = request_twelve(a, b)
    a.run_queue()  # two accepted, the third refused: the store is locked out for 60 s
    assert (len(world.stub.task_calls), world.stub.rate_limited) == (2, 1)
    for _ in range(11):
        world.clock.advance(5)
        b.run_queue()
        a.run_queue()
    assert world.stub.rate_limited == 1  # neither process called during the lockout
    assert len(world.stub.task_calls) == 2
    drain(world, [a, b], jobs, within_s=2000)
    assert len(world.stub.task_calls) == 12


def test_a_restart_loses_no_mockup_request(world: ShopWorld):
    gone = world.open_shop()
    job_id = gone.completed_job(unique_prompt())
    queued = gone.client.post(f"/api/generate/{job_id}/mockups", json={"variant_ids": [4012]}).json()
    assert queued["status"] == "pending"
    second = gone.client.post(f"/api/generate/{job_id}/mockups", json={"variant_ids": [4013]})
    assert second.status_code == 202
    # the process claims the second request's create-task call, then dies before making it
    store = gone.services.publishing.store
    claimed = store.claim_submission(gone.services.publishing.config.store_key, 10, LEASE_S, world.clock())
    assert claimed is not None
    gone.services.close()
    world.shops.remove(gone)

    restarted = world.open_shop()
    restarted.run_queue()
    assert len(world.stub.task_calls) == 1  # the claimed one waits for its lease to run out
    world.clock.advance(LEASE_S + 1)
    for _ in range(3):
        restarted.run_queue()
        world.clock.advance(10)
    states = {restarted.services.publishing.store.open_mockups(job_id, key).status
              for key in [variant_key([4012]), variant_key([4013])]}
    assert states == {"completed"}
    answer = restarted.client.get(f"/api/generate/{job_id}/mockups").json()
    assert answer["status"] == "completed"


def test_a_failed_task_reports_printfuls_reason(world: ShopWorld):
    shop = world.open_shop()
    job_id = shop.completed_job(unique_prompt())
    world.stub.print_sizes[71] = (1200, 1600)  # Printful now wants another size: the file is refused
    shop.client.post(f"/api/generate/{job_id}/mockups", json={"variant_ids": [4012]})
    for _ in range(3):
        shop.run_queue()
        world.clock.advance(10)
    answer = shop.client.get(f"/api/generate/{job_id}/mockups").json()
    assert answer["status"] == "failed" and "needs 1200x1600 px" in answer["error"]
    # a failed request may be made again
    again = shop.client.post(f"/api/generate/{job_id}/mockups", json={"variant_ids": [4012]})
    assert again.status_code == 202 and again.json()["status"] == "pending"


def test_a_task_printful_never_finishes_fails_at_the_deadline(world: ShopWorld):
    world.stub.complete_after_polls = 10_000
    shop = world.open_shop(printful_mockup_deadline_s=60)
    job_id = shop.completed_job(unique_prompt())
    shop.client.post(f"/api/generate/{job_id}/mockups", json={"variant_ids": [4012]})
    for _ in range(10):
        shop.run_queue()
        world.clock.advance(10)
    answer = shop.client.get(f"/api/generate/{job_id}/mockups").json()
    assert answer["status"] == "failed" and "within 60 s" in answer["error"]


def test_a_repeated_request_answers_the_one_in_the_queue(world: ShopWorld):
    shop = world.open_shop()
    job_id = shop.completed_job(unique_prompt())
    first = shop.client.post(f"/api/generate/{job_id}/mockups", json={"variant_ids": [4012, 4011]}).json()
    again = shop.client.post(f"/api/generate/{job_id}/mockups", json={"variant_ids": [4011, 4012]}).json()
    assert first == again
    shop.run_queue()
    assert len(world.stub.task_calls) == 1
