"""Per-user job limits: per minute, per day (rolling windows) and in flight.

The counts come from the jobs database (so they hold across app processes); the store
reads them and inserts the new job in one locked transaction, and this module decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import QuotaExceeded
from core.ops import metrics

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
# No window frees an in-flight slot; a job usually finishes within seconds to a minute.
IN_FLIGHT_RETRY_S = 5


@dataclass(frozen=True)
class QuotaLimits:
    """0 means unlimited."""

    per_minute: int = 0
    per_day: int = 0
    in_flight: int = 0

    @property
    def unlimited(self) -> bool:
        return not (self.per_minute or self.per_day or self.in_flight)


@dataclass(frozen=True)
class QuotaUsage:
    """One user's jobs as the database counts them at `now`."""

    now: datetime
    last_minute: int
    last_day: int
    in_flight: int
    oldest_in_minute: datetime | None = None
    oldest_in_day: datetime | None = None


def _seconds_until(moment: datetime | None, now: datetime) -> int:
    if moment is None:
        return 1
    return max(1, int((moment - now).total_seconds() + 0.999))


def check_quota(usage: QuotaUsage, limits: QuotaLimits) -> None:
    """Raise QuotaExceeded (with Retry-After seconds) when one more job would break a limit."""
    if limits.in_flight and usage.in_flight >= limits.in_flight:
        metrics.quota_refused("in_flight")
        raise QuotaExceeded(
            f"you already have {usage.in_flight} designs in progress (the limit is {limits.in_flight}); "
            "wait for one to finish",
            IN_FLIGHT_RETRY_S,
        )
    if limits.per_minute and usage.last_minute >= limits.per_minute:
        wait = _seconds_until(usage.oldest_in_minute and usage.oldest_in_minute + MINUTE, usage.now)
        metrics.quota_refused("per_minute")
        raise QuotaExceeded(
            f"rate limit: {limits.per_minute} designs per minute; try again in {wait} s", wait
        )
    if limits.per_day and usage.last_day >= limits.per_day:
        wait = _seconds_until(usage.oldest_in_day and usage.oldest_in_day + DAY, usage.now)
        metrics.quota_refused("per_day")
        raise QuotaExceeded(
            f"daily limit reached: {limits.per_day} designs per 24 hours; try again in {_readable(wait)}", wait
        )


def check_batch_quota(usage: QuotaUsage, limits: QuotaLimits, count: int) -> None:
    """Raise QuotaExceeded unless `count` more jobs fit every limit (a batch starts whole)."""
    check_quota(usage, limits)  # no room at all: the single-job message says which limit
    rooms = [
        limit - used
        for limit, used in ((limits.in_flight, usage.in_flight), (limits.per_minute, usage.last_minute),
                            (limits.per_day, usage.last_day))
        if limit
    ]
    room = min(rooms, default=count)
    if room < count:
        metrics.quota_refused("batch")
        raise QuotaExceeded(
            f"{count} designs would go over your limits: there is room for {room} now; ask for fewer images "
            "or wait for some to finish",
            IN_FLIGHT_RETRY_S,
        )


def _readable(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
