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
    check_batch_quota(usage, limits, 1)


@dataclass(frozen=True)
class LimitStanding:
    """One limit as it stands for a user: how many more jobs fit now, and when the next slot frees."""

    name: str  # "per-minute", "per-day", "in-flight"
    limit: int
    used: int
    frees_in_s: int  # seconds until the oldest counted job leaves the window (in flight: a guess)

    @property
    def room(self) -> int:
        return max(0, self.limit - self.used)


def standings(usage: QuotaUsage, limits: QuotaLimits) -> list[LimitStanding]:
    """Every limit that is set, with its room and when it frees up."""
    found = []
    if limits.per_minute:
        frees = _seconds_until(usage.oldest_in_minute and usage.oldest_in_minute + MINUTE, usage.now)
        found.append(LimitStanding("per-minute", limits.per_minute, usage.last_minute, frees))
    if limits.per_day:
        frees = _seconds_until(usage.oldest_in_day and usage.oldest_in_day + DAY, usage.now)
        found.append(LimitStanding("per-day", limits.per_day, usage.last_day, frees))
    if limits.in_flight:
        found.append(LimitStanding("in-flight", limits.in_flight, usage.in_flight, IN_FLIGHT_RETRY_S))
    return found


def binding_limit(usage: QuotaUsage, limits: QuotaLimits, count: int = 1) -> LimitStanding | None:
    """The limit that stops `count` more jobs now, or None when they fit.

    When several do, the one that frees up last binds: waiting for the others is not enough.
    """
    short = [s for s in standings(usage, limits) if s.room < count]
    return max(short, key=lambda s: s.frees_in_s, default=None)


def check_batch_quota(usage: QuotaUsage, limits: QuotaLimits, count: int) -> None:
    """Raise QuotaExceeded unless `count` more jobs fit every limit (a batch starts whole).

    The message names the limit that binds and when it frees up; `retry_after` is that time.
    """
    binding = binding_limit(usage, limits, count)
    if binding is None:
        return
    metrics.quota_refused(binding.name.replace("-", "_"))
    raise QuotaExceeded(_refusal(binding, count), binding.frees_in_s)


def _refusal(binding: LimitStanding, count: int) -> str:
    wait = _readable(binding.frees_in_s)
    if binding.name == "in-flight":
        rule = f"the in-flight limit ({binding.limit} designs in progress at once; you have {binding.used})"
        when = "wait for one to finish"
    elif binding.name == "per-minute":
        rule = f"the per-minute limit ({binding.limit} designs per minute; {binding.used} made in the last minute)"
        when = f"the oldest of them leaves the minute window in {wait}"
    else:
        rule = f"the per-day limit ({binding.limit} designs per 24 hours; {binding.used} made in the last 24 hours)"
        when = f"the oldest of them leaves the 24-hour window in {wait}"
    if count == 1:
        return f"you reached {rule}; {when}"
    if count > binding.limit:
        return (f"{count} designs would go over {rule}: there is room for {binding.room} now, "
                f"and one request may ask for at most {binding.limit} images")
    return f"{count} designs would go over {rule}: there is room for {binding.room} now; {when}"


def _readable(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
