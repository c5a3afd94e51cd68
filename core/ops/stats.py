"""Monitoring figures over `generation_jobs`: what `python app.py stats` and the admin tab show.

Both job stores compute a `JobStats` with SQL (`JobStore.stats(since)`); the pieces they share
(percentile interpolation, the zero-filled per-day series, the success rate) live here so the
two databases give identical numbers for the same rows.

The window is every job *created* at or after `since`. Processing-time figures cover
completed jobs only: a failed job's time says how long it took to fail, not to generate.
GPU time is what the workers reported (`gpu_seconds`, `cold_start_seconds`), per finished
status: what completed images used, and what failed and canceled work used for nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

RECENT_FAILURES_LIMIT = 10
DEFAULT_WINDOW_DAYS = 30  # a month of jobs: `created_at > NOW() - INTERVAL '30 days'`, as operators query it


@dataclass(frozen=True)
class DayCount:
    """Jobs created on one UTC calendar day."""

    day: date
    total: int
    completed: int
    failed: int


@dataclass(frozen=True)
class FailureRow:
    job_id: str
    created_at: datetime
    style: str
    product: str
    error: str | None


@dataclass(frozen=True)
class GpuTotals:
    """GPU time the workers reported for the jobs of one finished status."""

    measured: int = 0  # jobs that reported a figure
    gpu_seconds: float = 0.0  # generation
    cold_start_seconds: float = 0.0  # worker start-ups charged to these jobs

    @property
    def total_seconds(self) -> float:
        return self.gpu_seconds + self.cold_start_seconds


@dataclass(frozen=True)
class JobStats:
    window_days: int
    total: int
    completed: int
    failed: int
    canceled: int
    in_flight: int  # pending + processing
    success_rate: float | None  # completed / (completed + failed); None when neither happened
    avg_processing_ms: float | None  # completed jobs only, rounded to 0.1 ms
    p50_processing_ms: float | None  # continuous percentile (Postgres `percentile_cont`)
    p95_processing_ms: float | None
    jobs_per_day: list[DayCount]  # every UTC day from since's day to today, zero-filled
    by_style: dict[str, int]  # most used first
    by_product: dict[str, int]
    recent_failures: list[FailureRow]  # latest first, at most RECENT_FAILURES_LIMIT
    gpu_completed: GpuTotals = GpuTotals()
    gpu_failed: GpuTotals = GpuTotals()
    gpu_canceled: GpuTotals = GpuTotals()


@dataclass(frozen=True)
class StatusCounts:
    total: int = 0
    completed: int = 0
    failed: int = 0
    canceled: int = 0
    in_flight: int = 0


@dataclass(frozen=True)
class ProcessingTimes:
    """What each store measures over completed jobs with a processing time."""

    count: int = 0
    total_ms: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None


def window_start(days: int, now: datetime | None = None) -> datetime:
    """The `since` of a window of `days` days ending now (UTC)."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    return (now or datetime.now(UTC)) - timedelta(days=days)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def gpu_totals(rows: Iterable[Sequence[object]]) -> dict[str, GpuTotals]:
    """`stats_gpu` rows (status, measured, gpu_seconds, cold_start_seconds) by status."""
    return {str(status): GpuTotals(int(measured or 0), float(gpu or 0), float(cold or 0))  # type: ignore[arg-type]
            for status, measured, gpu, cold in rows}


def percentile_position(fraction: float, count: int) -> tuple[int, float]:
    """Where `percentile_cont(fraction)` falls in `count` sorted values: (lower index, weight of the next)."""
    position = fraction * (count - 1)
    lower = math.floor(position)
    return lower, position - lower


def interpolate(lower: float, upper: float, weight: float) -> float:
    """`percentile_cont`'s linear interpolation between two neighbouring sorted values."""
    return lower + (upper - lower) * weight


def success_rate(completed: int, failed: int) -> float | None:
    finished = completed + failed
    return completed / finished if finished else None


def _round_ms(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _most_used_first(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _zero_filled_days(since: datetime, now: datetime, rows: Iterable[DayCount]) -> list[DayCount]:
    by_day = {row.day: row for row in rows}
    first = as_utc(since).date()
    last = max([as_utc(now).date(), *by_day])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [by_day.get(day, DayCount(day, 0, 0, 0)) for day in days]


def assemble_job_stats(
    *,
    since: datetime,
    now: datetime,
    counts: StatusCounts,
    times: ProcessingTimes,
    per_day: Iterable[DayCount],
    by_style: Mapping[str, int],
    by_product: Mapping[str, int],
    recent_failures: Iterable[FailureRow],
    gpu: Mapping[str, GpuTotals] | None = None,
) -> JobStats:
    """Build the `JobStats` from what a store's queries returned, the same way for every store."""
    return JobStats(
        window_days=max(0, round((as_utc(now) - as_utc(since)) / timedelta(days=1))),
        total=counts.total,
        completed=counts.completed,
        failed=counts.failed,
        canceled=counts.canceled,
        in_flight=counts.in_flight,
        success_rate=success_rate(counts.completed, counts.failed),
        avg_processing_ms=_round_ms(times.total_ms / times.count) if times.count else None,
        p50_processing_ms=_round_ms(times.p50_ms),
        p95_processing_ms=_round_ms(times.p95_ms),
        jobs_per_day=_zero_filled_days(since, now, per_day),
        by_style=_most_used_first(by_style),
        by_product=_most_used_first(by_product),
        recent_failures=list(recent_failures)[:RECENT_FAILURES_LIMIT],
        gpu_completed=(gpu or {}).get("completed", GpuTotals()),
        gpu_failed=(gpu or {}).get("failed", GpuTotals()),
        gpu_canceled=(gpu or {}).get("canceled", GpuTotals()),
    )
