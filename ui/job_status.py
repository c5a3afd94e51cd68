"""How the studio words a job's progress: queued → (on a GPU worker: starting a GPU, or queued on
the GPU) → generating → uploading → done.

Pure functions from jobs to text and escaped HTML, so they are tested without a browser.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime

from core.jobs import Job, JobStatus

QUEUED, GENERATING, UPLOADING, DONE, FAILED, CANCELED = "Queued", "Generating", "Uploading", "Done", "Failed", "Canceled"
GPU_STARTING, GPU_QUEUED = "Starting a GPU", "Queued on the GPU"
# the status row's class (tg-<kind>) for each phase
KINDS = {QUEUED: "queued", GENERATING: "generating", UPLOADING: "uploading", DONE: "done", FAILED: "failed",
         CANCELED: "canceled", GPU_STARTING: "gpu-starting", GPU_QUEUED: "gpu-queued"}


@dataclass(frozen=True)
class JobView:
    """One job as the status card shows it."""

    job: Job
    queue_position: int | None = None  # pending jobs ahead of it, while it is pending


def phase(job: Job) -> str:
    """The step a designer sees. A processing job the GPU worker has not started yet (no
    progress) is "Starting a GPU" or "Queued on the GPU", as the worker said when it took it.
    "Uploading" is a processing job whose worker reported its last step: the image is being
    sent back and stored."""
    if job.status is JobStatus.PENDING:
        return QUEUED
    if job.status is JobStatus.PROCESSING:
        if job.progress_total and job.progress_step is not None:
            return UPLOADING if job.progress_step >= job.progress_total else GENERATING
        return {"starting": GPU_STARTING, "queued": GPU_QUEUED}.get(job.gpu_wait or "", GENERATING)
    return {JobStatus.COMPLETED: DONE, JobStatus.FAILED: FAILED, JobStatus.CANCELED: CANCELED}[job.status]


def elapsed_s(job: Job, now: datetime | None = None) -> float:
    """Seconds since the job was created, up to its end once it finished."""
    end = job.completed_at if job.status.is_terminal and job.completed_at else (now or datetime.now(UTC))
    return max(0.0, (end - job.created_at).total_seconds())


def describe(view: JobView, now: datetime | None = None) -> str:
    """One plain line: phase, progress, seed, elapsed seconds, and the error of a failed job."""
    job = view.job
    parts = [phase(job)]
    ahead = None
    if job.status is JobStatus.PENDING:
        ahead = view.queue_position
    elif phase(job) in (GPU_STARTING, GPU_QUEUED):
        ahead = job.queue_ahead
    if ahead is not None:
        parts.append("next in line" if ahead == 0 else f"{ahead} job{'s' if ahead != 1 else ''} ahead")
    if job.status is JobStatus.PROCESSING and job.progress_total and job.progress_step is not None:
        parts.append(f"step {min(job.progress_step, job.progress_total)}/{job.progress_total}")
    if job.seed is not None:
        parts.append(f"seed {job.seed}")
    parts.append(f"{elapsed_s(job, now):.1f} s")
    line = " · ".join(parts)
    if job.status is JobStatus.FAILED:
        line += f" — {job.error or 'the generator gave no reason'}"
    return line


def progress_fraction(job: Job) -> float | None:
    if job.status is JobStatus.COMPLETED:
        return 1.0
    if job.status is JobStatus.PROCESSING and job.progress_total and job.progress_step is not None:
        return min(1.0, job.progress_step / job.progress_total)
    return None


def status_html(views: list[JobView], now: datetime | None = None) -> str:
    """The status card: one row per job of the batch, every value escaped."""
    if not views:
        return _card("idle", "Ready — describe a design and press Generate.")
    rows = []
    for number, view in enumerate(views, start=1):
        label = f"Image {number}: " if len(views) > 1 else ""
        kind = KINDS[phase(view.job)]
        bar = ""
        fraction = progress_fraction(view.job)
        if fraction is not None and view.job.status is not JobStatus.COMPLETED:
            bar = f'<div class="tg-bar"><div style="width:{fraction * 100:.0f}%"></div></div>'
        rows.append(
            f'<div class="tg-row tg-{kind}" data-status="{view.job.status.value}">'
            f'<span class="tg-badge">{html.escape(phase(view.job))}</span>'
            f'<span class="tg-line">{html.escape(label + describe(view, now))}</span>{bar}</div>'
        )
    return f'<div class="tg-status">{"".join(rows)}</div>'


def message_html(kind: str, text: str) -> str:
    """A one-line card for a message that is not a job's status (e.g. a restored job)."""
    return _card(kind, text)


def _card(kind: str, text: str) -> str:
    return f'<div class="tg-status"><div class="tg-row tg-{html.escape(kind)}"><span class="tg-line">{html.escape(text)}</span></div></div>'
