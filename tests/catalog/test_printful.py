"""PrintfulClient against a loopback server answering like Printful's v1 Mockup Generator API.

Time is a fake clock whose sleep only moves the clock: lockouts and polling intervals are
checked as recorded sleeps, and no test waits for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from api.errors import status_for
from core.catalog.printful import (
    PrintfulClient,
    PrintfulError,
    PrintfulRateLimited,
    PrintfulTaskFailed,
    PrintfulTimeout,
)
from tests.support.printful_stub import PrintfulStub, Scripted, lockout
from tests.support.servers import LiveServer

TOKEN = "pf-test-token"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture(scope="module")
def stub_server() -> Iterator[tuple[PrintfulStub, str]]:
    stub = PrintfulStub()
    with LiveServer(stub.app()) as server:
        yield stub, server.url
        stub.release()


@pytest.fixture
def stub(stub_server) -> Iterator[PrintfulStub]:
    stub, _ = stub_server
    fresh = PrintfulStub()
    stub.script, stub.requests, stub.task_statuses = fresh.script, fresh.requests, fresh.task_statuses
    stub.released.clear()
    yield stub
    stub.release()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(stub_server, fake_time):
    _, url = stub_server
    clients: list[PrintfulClient] = []

    def build(timeout_s: float = 5.0, store_id: str | None = None) -> PrintfulClient:
        client = PrintfulClient(
            TOKEN, url, timeout_s=timeout_s, store_id=store_id, clock=fake_time.clock, sleep=fake_time.sleep
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def paths(stub: PrintfulStub) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in stub.requests]


# --- print files ---------------------------------------------------------------------------------
def test_printfiles_map_variants_and_placements_to_sizes(stub, make_client):
    info = make_client(store_id="12345").printfiles(71)
    front = info.for_variant(4012, "front")
    assert (front.width, front.height, front.dpi) == (1800, 2400, 150)
    assert info.for_placement("front") == [front] and info.for_variant(9999, "front") is None
    assert info.placements["front"] == "Front print"
    [request] = stub.requests
    assert request["authorization"] == f"Bearer {TOKEN}" and request["store_id"] == "12345"


def test_an_unknown_product_is_an_upstream_error_with_printfuls_message(stub, make_client):
    with pytest.raises(PrintfulError, match="404.*Product 999 not found") as failed:
        make_client().printfiles(999)
    assert status_for(failed.value) == 502


# --- mockup tasks ---------------------------------------------------------------------------------
def test_a_mockup_task_is_created_then_polled_until_completed(stub, make_client, fake_time):
    stub.task_statuses[:] = ["pending", "pending", "completed"]
    mockups = make_client().generate_mockups(71, [4012], "https://cdn.example/design_print.png", "front")
    assert [m.mockup_url for m in mockups] == ["https://files.example/front.png"]
    assert mockups[0].variant_ids == [4012] and mockups[0].extra_urls == ["https://files.example/back.png"]
    assert paths(stub) == ["POST /mockup-generator/create-task/71"] + ["GET /mockup-generator/task"] * 3
    assert stub.requests[1]["query"] == {"task_key": "gt-71-1"}
    body = json.loads(stub.requests[0]["body"])
    assert body["variant_ids"] == [4012] and body["format"] == "png"
    assert body["files"] == [{"placement": "front", "image_url": "https://cdn.example/design_print.png"}]
    # Printful: the first check no sooner than 10 s, then at an interval
    assert fake_time.sleeps == [10.0, 5.0, 5.0]


def test_a_failed_task_raises_with_printfuls_reason(stub, make_client):
    stub.task_statuses[:] = ["pending", "failed"]
    with pytest.raises(PrintfulTaskFailed, match="Image could not be downloaded"):
        make_client().wait_for_mockups("gt-71-1")


def test_a_task_still_pending_at_the_deadline_times_out(stub, make_client, fake_time):
    stub.task_statuses[:] = ["pending"]
    with pytest.raises(PrintfulTimeout, match="not done within 30 s"):
        make_client().wait_for_mockups("gt-71-1", within_s=30)
    assert fake_time.now <= 30
    assert len(stub.requests) == 5  # at 10, 15, 20, 25 and 30 s


# --- rate limits ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reply", "waited"),
    [
        (lockout(retry_after="30"), 30.0),
        (lockout(), 60.0),  # no Retry-After: Printful's documented 60 s lockout
        (lockout(message="Too Many Requests. Please try again after 45 seconds."), 45.0),
    ],
    ids=["retry-after", "documented-lockout", "message"],
)
def test_a_429_waits_out_the_lockout_then_sends_again(stub, make_client, fake_time, reply, waited):
    stub.script.append(reply)
    task = make_client().create_mockup_task(71, [4012], [{"placement": "front", "image_url": "https://x/y.png"}])
    assert task.task_key == "gt-71-1" and task.status == "pending"
    assert fake_time.sleeps == [waited]
    assert paths(stub) == ["POST /mockup-generator/create-task/71"] * 2


def test_no_call_is_sent_during_a_lockout(stub, make_client, fake_time):
    client = make_client()
    stub.script.append(lockout(retry_after="60"))
    with pytest.raises(PrintfulRateLimited) as limited:
        client.create_mockup_task(71, [4012], [], within_s=10)  # the lockout outlasts the deadline
    assert limited.value.retry_after_s == pytest.approx(60)
    assert len(stub.requests) == 1 and fake_time.sleeps == []
    fake_time.now += 20
    client.printfiles(71)  # another endpoint: still locked out for 40 s, so it waits first
    assert fake_time.sleeps == [40.0] and len(stub.requests) == 2


def test_a_lockout_that_keeps_coming_back_gives_up(stub, make_client):
    stub.script.extend([lockout("1"), lockout("1"), lockout("1")])
    with pytest.raises(PrintfulRateLimited):
        make_client().printfiles(71)
    assert len(stub.requests) == 3


# --- timeouts and server errors -----------------------------------------------------------------------
def test_every_call_has_a_timeout_and_a_get_is_retried_once(stub, make_client, fake_time):
    stub.script.append(Scripted(hold_s=10))
    info = make_client(timeout_s=0.2).printfiles(71)
    assert info.product_id == 71 and len(stub.requests) == 2
    assert fake_time.sleeps == [1.0]  # the backoff before the retry

    stub.script.extend([Scripted(hold_s=10), Scripted(hold_s=10)])
    with pytest.raises(PrintfulError, match="did not answer in time"):
        make_client(timeout_s=0.2).printfiles(71)


def test_a_create_task_is_never_repeated_after_a_timeout_or_a_5xx(stub, make_client):
    stub.script.append(Scripted(hold_s=10))
    with pytest.raises(PrintfulError, match="did not answer in time"):
        make_client(timeout_s=0.2).create_mockup_task(71, [4012], [])
    stub.script.append(Scripted(status=502))
    with pytest.raises(PrintfulError, match="502"):
        make_client().create_mockup_task(71, [4012], [])
    assert paths(stub) == ["POST /mockup-generator/create-task/71"] * 2


def test_a_5xx_on_a_get_is_retried_once(stub, make_client):
    stub.script.append(Scripted(status=503))
    assert make_client().get_mockup_task("gt-71-1").status == "pending"
    assert len(stub.requests) == 2
