"""RemoteWorkerDispatcher against a real flaky worker server: retries 5xx and broken connections
with backoff (injected, so nothing sleeps), never retries a 4xx, gives up after N tries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from core.errors import GeneratorUnavailable
from core.generators import GenerationRequest, RemoteWorkerDispatcher
from core.generators.remote_worker import exponential_backoff
from core.parsing.models import ParsedPrompt
from core.worker_contract.messages import MAX_SEED, DispatchRequest
from core.worker_contract.webhooks import generate_webhook_secret
from tests.support.flaky_worker import FlakyWorker
from tests.support.servers import LiveServer, free_port


def request(job_id: str = "job-1") -> GenerationRequest:
    brief = ParsedPrompt(
        subject="fox", style="anime", colors=[], mood="", composition="", product="mug", aspect_ratio="16:9",
        width=64, height=32, prompt="a fox", negative_prompt="", parser="local",
    )
    return GenerationRequest(job_id=job_id, user_id="u", prompt="a fox", negative_prompt="", width=64, height=32,
                             seed=1, steps=4, webhook_url="http://127.0.0.1:9/hook", brief=brief)


@pytest.fixture
def worker(webhook_secret) -> Iterator[tuple[FlakyWorker, str]]:
    flaky = FlakyWorker(secret=webhook_secret)
    with LiveServer(flaky) as server:
        yield flaky, server.url


SECRET = generate_webhook_secret()


def generator(url: str, sleeps: list[float], attempts: int = 4) -> RemoteWorkerDispatcher:
    return RemoteWorkerDispatcher(url, SECRET, timeout_s=5, max_attempts=attempts, backoff=lambda n: n * 0.1, sleep=sleeps.append)


def test_500s_and_dropped_connections_are_retried_until_the_worker_accepts(worker):
    flaky, url = worker
    flaky.plan = ["500", "drop", "503", "hold"]
    sleeps: list[float] = []
    generator(url, sleeps).submit(request(), sink=None)
    assert flaky.actions == ["500", "drop", "503", "hold"]
    assert sleeps == [0.1, 0.2, 0.30000000000000004]
    assert flaky.accepted_job_ids() == ["job-1"]


def test_the_dispatch_gives_up_after_the_last_attempt_with_the_reason(worker):
    flaky, url = worker
    flaky.plan = ["500"] * 10
    with pytest.raises(GeneratorUnavailable, match=r"refused the job \(500\).*after 3 attempts"):
        generator(url, [], attempts=3).submit(request(), sink=None)
    assert len(flaky.received) == 3


def test_a_4xx_is_final_and_not_retried(worker):
    flaky, url = worker
    flaky.plan = ["422"]
    sleeps: list[float] = []
    with pytest.raises(GeneratorUnavailable, match="422"):
        generator(url, sleeps).submit(request(), sink=None)
    assert len(flaky.received) == 1 and sleeps == []


def test_an_unreachable_worker_is_retried_then_reported():
    sleeps: list[float] = []
    with pytest.raises(GeneratorUnavailable, match="unreachable.*after 2 attempts"):
        generator(f"http://127.0.0.1:{free_port()}", sleeps, attempts=2).submit(request(), sink=None)
    assert sleeps == [0.1]


def test_the_dispatch_names_the_job_as_its_idempotency_key(worker):
    flaky, url = worker
    flaky.plan = ["hold"]
    generator(url, []).submit(request("job-42"), sink=None)
    assert flaky.idempotency_keys == ["job-42"]


def test_the_default_backoff_grows_and_is_capped():
    backoff = exponential_backoff(base_s=0.5, cap_s=2.0)
    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (8, 2.0)]:
        assert all(0 <= backoff(retry) <= ceiling for _ in range(50))


def test_the_dispatch_body_is_the_contracts_dispatch_request(worker):
    flaky, url = worker
    flaky.plan = ["hold"]
    generator(url, []).submit(request(), sink=None)
    (body,) = flaky.received
    assert DispatchRequest.model_validate(body).model_dump(mode="json", exclude_none=True) == body
    assert body == {"job_id": "job-1", "prompt": "a fox", "negative_prompt": "", "width": 64, "height": 32,
                    "seed": 1, "steps": 4, "webhook_url": "http://127.0.0.1:9/hook"}


def test_a_job_past_the_workers_limits_fails_here_without_a_dispatch(worker):
    flaky, url = worker
    past = replace(request(), seed=MAX_SEED + 1)
    with pytest.raises(GeneratorUnavailable, match=r"(?s)does not fit the GPU worker's limits.*seed"):
        generator(url, []).submit(past, sink=None)
    assert flaky.received == []
