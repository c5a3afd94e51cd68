"""GenerationService: briefs with edits, batches, reruns and ownership, on real local backends."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequest, JobNotFound, QuotaExceeded
from core.jobs import JobStatus
from core.parsing import LocalPromptParser
from core.jobs.quotas import QuotaLimits
from core.generators import GenerationOutcome
from core.jobs.limits import MAX_SEED
from core.jobs.service import GenerateCommand, GenerationService, ServiceLimits
from tests.support.fake_worker import solid_png
from tests.support.generators import RecordingGenerator


@pytest.fixture
def generator() -> RecordingGenerator:
    return RecordingGenerator()


@pytest.fixture
def service(sqlite_store, local_store, catalog, generator) -> GenerationService:
    return GenerationService(
        jobs=sqlite_store, objects=local_store, parser=LocalPromptParser(catalog), generator=generator,
        catalog=catalog, webhook_url="http://127.0.0.1:1/api/generate/webhook", limits=ServiceLimits(steps=30),
    )


def command(**changes) -> GenerateCommand:
    values = {"prompt": "a red fox in the snow", "style": "anime", "product": "t-shirt"}
    return GenerateCommand(**{**values, **changes})


def test_an_edited_final_prompt_and_negative_prompt_are_what_the_generator_gets(service, generator):
    edits = {"prompt": "  a red fox,   ink wash ", "negative_prompt": "blur", "subject": "fox", "colors": ["red"]}
    job = service.submit("alice", command(brief_overrides=edits))
    sent = generator.requests[0]
    assert (sent.prompt, sent.negative_prompt) == ("a red fox, ink wash", "blur")
    stored = service.jobs.get(job.id).parsed_prompt
    assert (stored["prompt"], stored["subject"], stored["colors"]) == ("a red fox, ink wash", "fox", ["red"])


def test_without_edits_the_parsed_brief_is_generated(service, generator):
    service.submit("alice", command())
    assert generator.requests[0].prompt == service.parse("a red fox in the snow", "anime", "t-shirt").prompt


@pytest.mark.parametrize(
    ("edits", "message"),
    [({"prompt": "   "}, "final prompt is empty"), ({"width": 4096}, "cannot be edited"),
     ({"prompt": "x" * 2001}, "final prompt is too long")],
    ids=["empty-prompt", "width", "too-long"],
)
def test_bad_brief_edits_are_refused_and_store_nothing(service, edits, message):
    with pytest.raises(InvalidRequest, match=message):
        service.submit("alice", command(brief_overrides=edits))
    assert service.history("alice") == []


def test_steps_asked_for_reach_the_generator_and_default_otherwise(service, generator):
    service.submit("alice", command(steps=12))
    service.submit("alice", command())
    assert [r.steps for r in generator.requests] == [12, 30]


def test_a_batch_with_a_seed_gets_consecutive_seeds(service, generator):
    jobs = service.submit_batch("alice", command(seed=MAX_SEED - 1), count=3)
    assert [j.seed for j in jobs] == [MAX_SEED - 1, MAX_SEED, 0]
    assert [r.job_id for r in generator.requests] == [j.id for j in jobs]
    assert all(j.status is JobStatus.PROCESSING for j in jobs)


def test_a_batch_without_a_seed_gets_a_seed_each(service):
    jobs = service.submit_batch("alice", command(), count=4)
    assert len(jobs) == 4 and all(0 <= j.seed <= MAX_SEED for j in jobs)


@pytest.mark.parametrize("count", [0, 5])
def test_a_batch_outside_one_to_four_is_refused(service, count):
    with pytest.raises(InvalidRequest, match="number of images"):
        service.submit_batch("alice", command(), count=count)
    assert service.history("alice") == []


def test_a_retry_keeps_the_brief_and_seed_and_a_variation_changes_the_seed(service, generator):
    original = service.submit("alice", command(seed=5, brief_overrides={"prompt": "edited fox"}))
    service.cancel("alice", original.id)
    retry = service.rerun("alice", original.id, keep_seed=True)
    variation = service.rerun("alice", original.id, keep_seed=False)
    assert retry.seed == 5 and retry.id != original.id
    assert retry.parsed_prompt == variation.parsed_prompt == service.jobs.get(original.id).parsed_prompt
    assert [r.prompt for r in generator.requests] == ["edited fox"] * 3


def test_another_users_job_cannot_be_read_or_rerun(service):
    job = service.submit("alice", command())
    with pytest.raises(JobNotFound):
        service.owned_job("bob", job.id)
    with pytest.raises(JobNotFound):
        service.rerun("bob", job.id, keep_seed=True)


def test_another_users_job_cannot_be_canceled_exported_or_shown(service):
    pending = service.create_job("alice", command())
    done = service.create_job("alice", command())
    service.apply_outcome(GenerationOutcome(job_id=done.id, status="completed", png=solid_png(done.width, done.height)))
    refused = [
        lambda: service.cancel("bob", pending.id),
        lambda: service.queue_position("bob", pending.id),
        lambda: service.files.print_file("bob", done.id),
        lambda: service.files.image("bob", done.id),
        lambda: service.files.mockup_png("bob", done.id),
    ]
    for call in refused:
        with pytest.raises(JobNotFound):
            call()
    assert service.jobs.get(pending.id).status is JobStatus.PENDING
    assert service.files.image("alice", done.id) and service.files.print_file("alice", done.id).key


def test_queue_position_is_reported_for_pending_jobs_only(service):
    waiting = [service.create_job("alice", command()) for _ in range(2)]
    assert [service.queue_position("alice", j.id) for j in waiting] == [0, 1]
    service.dispatch(waiting[0].id)
    assert [service.queue_position("alice", j.id) for j in waiting] == [None, 0]


def test_a_batch_the_quota_cannot_take_whole_starts_nothing(sqlite_store, local_store, catalog, generator):
    limited = GenerationService(
        jobs=sqlite_store, objects=local_store, parser=LocalPromptParser(catalog), generator=generator,
        catalog=catalog, webhook_url="http://127.0.0.1:1/api/generate/webhook", quotas=QuotaLimits(in_flight=3),
    )
    with pytest.raises(QuotaExceeded, match="room for 3"):
        limited.submit_batch("alice", command(), count=4)
    assert limited.history("alice") == [] and generator.requests == []
    assert len(limited.submit_batch("alice", command(), count=3)) == 3


def test_canceling_a_job_the_generator_runs_stops_it_there_and_a_pending_one_is_only_marked(service, generator):
    running = service.submit("alice", command())
    pending = service.create_job("alice", command())
    assert service.jobs.get(running.id).status is JobStatus.PROCESSING

    assert service.cancel("alice", running.id).status is JobStatus.CANCELED
    assert service.cancel("alice", pending.id).status is JobStatus.CANCELED
    assert generator.canceled == [running.id]


def test_a_background_dispatch_that_loses_its_database_connection_leaves_the_job_pending(service, generator,
                                                                                          monkeypatch, caplog):
    # found by the fault test (Postgres connections killed): the error escaped the 202's background
    # task, and the server dropped the client's keep-alive connection ("Server disconnected")
    import psycopg

    job = service.create_job("alice", command())

    def connection_killed(job_id: str):
        raise psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")

    monkeypatch.setattr(service.jobs, "mark_processing", connection_killed)
    service.dispatch_later(job.id)  # does not raise
    monkeypatch.undo()
    assert service.jobs.get(job.id).status is JobStatus.PENDING  # the recovery pass will claim it
    assert generator.requests == []
    assert "dispatch deferred to recovery" in caplog.text and job.id in caplog.text


class ConnectionLostOnce:
    """A job store whose first call of `method` fails the way a killed database connection does:
    before its write (`after=False`) or after it, the answer lost."""

    def __init__(self, inner, method: str, after: bool) -> None:
        self._inner = inner
        self._method = method
        self._after = after
        self.failures = 1

    def __getattr__(self, name: str):
        real = getattr(self._inner, name)
        if name != self._method:
            return real

        def once(*args, **kwargs):
            if not self.failures:
                return real(*args, **kwargs)
            self.failures -= 1
            if self._after:
                real(*args, **kwargs)
            raise ConnectionError("terminating connection due to administrator command")

        return once


@pytest.mark.parametrize(("method", "after"), [("record_runner", False), ("mark_processing", True)],
                         ids=["runner-write-lost", "claim-answer-lost"])
def test_a_claimed_job_whose_connection_is_lost_mid_dispatch_is_still_handed_over(
    method, after, sqlite_store, local_store, catalog, generator
):
    """Found in CI (tests/test_faults.py): the job was already processing, so the recovery pass,
    which claims pending jobs, never took it, and it waited for the processing deadline."""
    service = GenerationService(
        jobs=ConnectionLostOnce(sqlite_store, method, after), objects=local_store, parser=LocalPromptParser(catalog),
        generator=generator, catalog=catalog, webhook_url="http://127.0.0.1:1/api/generate/webhook",
    )
    job = service.create_job("alice", command())
    service.dispatch_later(job.id)
    assert [request.job_id for request in generator.requests] == [job.id]
    assert sqlite_store.get(job.id).runner is not None


def test_a_dispatch_whose_claim_failed_leaves_the_job_pending_for_recovery(
    sqlite_store, local_store, catalog, generator
):
    service = GenerationService(
        jobs=ConnectionLostOnce(sqlite_store, "mark_processing", after=False), objects=local_store,
        parser=LocalPromptParser(catalog), generator=generator, catalog=catalog,
        webhook_url="http://127.0.0.1:1/api/generate/webhook",
    )
    job = service.create_job("alice", command())
    service.dispatch_later(job.id)
    assert generator.requests == [] and sqlite_store.get(job.id).status is JobStatus.PENDING
