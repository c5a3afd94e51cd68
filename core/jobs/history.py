"""A user's history: which jobs a page lists (the filters the stores apply in SQL), and which
jobs may leave it."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import JobNotReady
from core.jobs.status import TERMINAL_STATUSES, JobStatus


@dataclass(frozen=True)
class HistoryFilter:
    """A field left None does not filter; `statuses` keeps jobs in any of them."""

    statuses: frozenset[JobStatus] | None = None
    style: str | None = None
    product: str | None = None
    favorite: bool | None = None

    def status_values(self) -> list[str] | None:
        """The statuses as the database stores them, in a stable order (None: any status)."""
        return None if self.statuses is None else sorted(s.value for s in self.statuses)


# the statuses a job may be deleted in: a pending or processing one is canceled first
DELETABLE_STATUSES: list[str] = sorted(s.value for s in TERMINAL_STATUSES)


def still_running(job_id: str, status: str) -> JobNotReady:
    """The refusal to delete a job that has not finished."""
    return JobNotReady(f"job {job_id} is {status}: cancel it before deleting it")
