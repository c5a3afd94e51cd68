"""A job as any tab shows it: its gallery caption and the follow-up actions it allows."""

from __future__ import annotations

from datetime import UTC, datetime

from core.jobs import Job, JobStatus
from ui.job_views import JobActions, actions_for, caption

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def job(status: JobStatus, prompt: str = "a fox", style: str = "anime", product: str = "mug") -> Job:
    return Job(id="j", user_id="u", prompt=prompt, style=style, product=product, width=8, height=8, status=status,
               created_at=NOW, updated_at=NOW)


def test_a_caption_names_status_style_and_product_and_clips_a_long_prompt(catalog):
    assert caption(catalog, job(JobStatus.COMPLETED)) == "completed · Anime · Mug (11 oz) — a fox"
    long = caption(catalog, job(JobStatus.FAILED, prompt="x" * 80))
    assert long.endswith(" — " + "x" * 59 + "…")


def test_a_caption_shows_the_ids_of_a_style_or_product_no_longer_in_the_catalog(catalog):
    assert caption(catalog, job(JobStatus.CANCELED, style="retired", product="gone")) == "canceled · retired · gone — a fox"


def test_a_finished_job_offers_variation_and_reuse_and_a_failed_or_canceled_one_retry():
    assert actions_for(job(JobStatus.COMPLETED)) == JobActions(variation=True, reuse=True, retry=False)
    assert actions_for(job(JobStatus.FAILED)) == JobActions(variation=True, reuse=True, retry=True)
    assert actions_for(job(JobStatus.CANCELED)) == JobActions(variation=True, reuse=True, retry=True)


def test_a_running_job_or_none_offers_no_actions():
    assert actions_for(job(JobStatus.PROCESSING)) == JobActions()
    assert actions_for(job(JobStatus.PENDING)) == JobActions()
    assert actions_for(None) == JobActions(variation=False, reuse=False, retry=False)


def test_a_caption_without_a_clip_keeps_the_whole_prompt(catalog):
    assert caption(catalog, job(JobStatus.COMPLETED, prompt="x" * 80), clip=None).endswith(" — " + "x" * 80)
