"""Prometheus metrics: what the service records at each job transition, and their exposition.

The service, the outcome applier, the recovery pass, the quota check and the sign-in throttle
each call one function here at the event (`job_created`, `job_finished`, ...); the API serves
`exposition()` at GET /metrics (api/routes/ops.py). Metrics are process-wide, as Prometheus
counters are: with several app processes (`python app.py --workers N`) set
PROMETHEUS_MULTIPROC_DIR (the supervisor does) and every process's /metrics reports the sum
over all of them. The queue depth is not a counter: it is read from the job store at scrape time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from core.ops.stats import window_start

J = TypeVar("J")

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
FINISHED_STATUSES = ("completed", "failed", "canceled")

# seconds: hand-over is a database write and a 202 (or a cold worker); end to end is a GPU run
SUBMIT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
END_TO_END_BUCKETS = (1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600)

JOBS_CREATED = Counter("tenkaigen_jobs_created", "Jobs stored (pending), by style and product",
                       ["style", "product"])
JOBS_FINISHED = Counter("tenkaigen_jobs_finished", "Jobs that reached a final status, by status, style and product",
                        ["status", "style", "product"])
SUBMIT_SECONDS = Histogram("tenkaigen_submit_seconds",
                           "From a job's creation to its hand-over to the generator (queue wait and dispatch)",
                           buckets=SUBMIT_BUCKETS)
END_TO_END_SECONDS = Histogram("tenkaigen_job_seconds",
                               "From a job's creation to its completion (completed jobs only)",
                               ["style", "product"], buckets=END_TO_END_BUCKETS)
GPU_SECONDS = Counter("tenkaigen_gpu_seconds", "GPU time the worker reported for completed jobs",
                      ["style", "product"])
WEBHOOKS = Counter("tenkaigen_webhooks", "Worker webhook deliveries answered, by HTTP status code", ["code"])
QUOTA_REFUSALS = Counter("tenkaigen_quota_refusals", "Submissions refused by a user's quota, by the limit hit",
                         ["limit"])
LOGIN_THROTTLES = Counter("tenkaigen_login_throttles", "Sign-in attempts refused while an account or address waits")


# --- events: one call at each transition ---------------------------------------------------
def job_created(job: Any) -> None:
    JOBS_CREATED.labels(job.style, job.product).inc()


def job_handed_over(job: Any) -> None:
    SUBMIT_SECONDS.observe(_seconds_since(job.created_at))


def job_finished(job: J) -> J:
    """Count a job that reached completed, failed or canceled (the record its transition
    returned), and return it, so the caller's line stays one expression."""
    _count_finished(job)
    return job


def _count_finished(job: Any) -> None:
    status = getattr(job.status, "value", job.status)
    if status not in FINISHED_STATUSES:
        return
    JOBS_FINISHED.labels(status, job.style, job.product).inc()
    if status != "completed":
        return
    if job.completed_at is not None:
        END_TO_END_SECONDS.labels(job.style, job.product).observe(
            max(0.0, (job.completed_at - job.created_at).total_seconds()))
    gpu_seconds = getattr(job, "gpu_seconds", None)  # recorded by workers that report it
    if gpu_seconds:
        GPU_SECONDS.labels(job.style, job.product).inc(gpu_seconds)


def webhook_answered(status_code: int) -> None:
    WEBHOOKS.labels(str(status_code)).inc()


def quota_refused(limit: str) -> None:
    QUOTA_REFUSALS.labels(limit).inc()


def login_throttled() -> None:
    LOGIN_THROTTLES.inc()


def _seconds_since(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - moment).total_seconds())


# --- exposition ------------------------------------------------------------------------------
class QueueDepth(Collector):
    """Jobs in flight (pending and processing), counted by the store when Prometheus scrapes."""

    def __init__(self, count_in_flight: Callable[[], int]) -> None:
        self._count = count_in_flight

    def collect(self) -> Iterable[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("tenkaigen_jobs_in_flight", "Jobs pending or processing, read from the job store")
        gauge.add_metric([], self._count())
        yield gauge


# Recovery fails a job that has no news for TENKAIGEN_JOB_DEADLINE_S, so no job stays in
# flight for a day: counting the last day's jobs keeps the scrape cheap (created_at is indexed).
IN_FLIGHT_WINDOW_DAYS = 1


def in_flight_count(jobs: Any) -> int:
    """Pending and processing jobs in a JobStore (core.jobs.store)."""
    return jobs.stats(window_start(IN_FLIGHT_WINDOW_DAYS)).in_flight


def process_registry() -> CollectorRegistry:
    """Every process's metrics summed (PROMETHEUS_MULTIPROC_DIR set), else this process's."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return PROCESS_REGISTRY


def exposition(count_in_flight: Callable[[], int] | None = None) -> bytes:
    """The text exposition format: the counters and histograms, then the queue depth."""
    text = generate_latest(process_registry())
    if count_in_flight is not None:
        scrape_time = CollectorRegistry()
        scrape_time.register(QueueDepth(count_in_flight))
        text += generate_latest(scrape_time)
    return text
