"""The job status machine: the one place that says which transitions exist.

pending -> processing -> completed | failed, and canceled from pending or processing.
Stores apply a transition as a conditional UPDATE whose WHERE clause lists
`sources_of(target)`, so a stale or repeated transition can never move a finished job.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})

ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.PROCESSING, JobStatus.CANCELED}),
    JobStatus.PROCESSING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
}


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def sources_of(target: JobStatus) -> tuple[JobStatus, ...]:
    """The statuses a job may be in for `target` to be applied to it, in a stable order."""
    return tuple(s for s in JobStatus if target in ALLOWED_TRANSITIONS[s])
