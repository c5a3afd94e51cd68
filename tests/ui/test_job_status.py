"""How the studio words a job's progress, and that what users typed is escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.jobs import Job, JobStatus
from ui.job_status import JobView, describe, phase, status_html

CREATED = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def job(status: JobStatus, **changes) -> Job:
    values = {
        "id": "00000000-0000-4000-8000-000000000001", "user_id": "local", "prompt": "a fox", "style": "anime",
        "product": "mug", "width": 8, "height": 8, "status": status, "created_at": CREATED, "updated_at": CREATED,
    }
    return Job.model_validate({**values, **changes})


def test_a_pending_job_is_queued_with_its_place_in_line():
    now = CREATED + timedelta(seconds=3.2)
    assert describe(JobView(job(JobStatus.PENDING), queue_position=2), now) == "Queued · 2 jobs ahead · 3.2 s"
    assert describe(JobView(job(JobStatus.PENDING), queue_position=0), now) == "Queued · next in line · 3.2 s"


def test_a_running_job_shows_its_step_progress():
    running = job(JobStatus.PROCESSING, progress_step=12, progress_total=50)
    assert describe(JobView(running), CREATED + timedelta(seconds=8)) == "Generating · step 12/50 · 8.0 s"


def test_a_job_past_its_last_step_is_uploading():
    assert phase(job(JobStatus.PROCESSING, progress_step=50, progress_total=50)) == "Uploading"
    assert phase(job(JobStatus.PROCESSING)) == "Generating"


def test_a_finished_job_counts_time_until_it_finished():
    done = job(JobStatus.COMPLETED, completed_at=CREATED + timedelta(seconds=4))
    assert describe(JobView(done), CREATED + timedelta(hours=1)) == "Done · 4.0 s"


def test_a_failed_job_says_why():
    failed = job(JobStatus.FAILED, error="CUDA out of memory", completed_at=CREATED + timedelta(seconds=1))
    assert describe(JobView(failed)) == "Failed · 1.0 s — CUDA out of memory"


def test_the_status_card_escapes_what_it_shows():
    hostile = job(JobStatus.FAILED, error="<img src=x onerror=alert(1)>", completed_at=CREATED)
    card = status_html([JobView(hostile)])
    assert "<img" not in card and "&lt;img src=x onerror=alert(1)&gt;" in card
    assert 'data-status="failed"' in card


def test_a_batch_gets_one_numbered_row_per_job():
    card = status_html([JobView(job(JobStatus.PENDING), 0), JobView(job(JobStatus.PROCESSING))])
    assert card.count("tg-row") == 2 and "Image 1: Queued" in card and "Image 2: Generating" in card


def test_a_job_the_gpu_worker_has_not_started_says_where_it_waits():
    now = CREATED + timedelta(seconds=30)
    cold = job(JobStatus.PROCESSING, gpu_wait="starting", queue_ahead=0)
    assert describe(JobView(cold), now) == "Starting a GPU · next in line · 30.0 s"
    behind = job(JobStatus.PROCESSING, gpu_wait="queued", queue_ahead=3)
    assert describe(JobView(behind), now) == "Queued on the GPU · 3 jobs ahead · 30.0 s"
    assert describe(JobView(job(JobStatus.PROCESSING, gpu_wait="queued")), now) == "Queued on the GPU · 30.0 s"
    card = status_html([JobView(cold), JobView(behind)])
    assert 'class="tg-row tg-gpu-starting"' in card and 'class="tg-row tg-gpu-queued"' in card


def test_the_first_progress_report_ends_the_wait():
    started = job(JobStatus.PROCESSING, gpu_wait="starting", queue_ahead=2, progress_step=0, progress_total=8)
    assert describe(JobView(started), CREATED) == "Generating · step 0/8 · 0.0 s"
