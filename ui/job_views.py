"""One job as the studio shows it, whichever tab shows it: its caption in a gallery, its status
card with design and mockup, which follow-up actions it allows, and its settings as the
Generate form holds them.

Plain values (and the one panel update the form needs); the tabs turn them into component
updates through their registries in ui.components.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import gradio as gr

from core.catalog import Catalog
from core.jobs import Job, JobStatus
from core.parsing import ParsedPrompt
from ui.files import StudioFiles
from ui.job_status import JobView, status_html

CAPTION_PROMPT_CHARS = 60


def caption(catalog: Catalog, job: Job, clip: int | None = CAPTION_PROMPT_CHARS) -> str:
    """'completed · Anime · Mug (11 oz) — a fox', the prompt clipped to `clip` characters (None: whole)."""
    style = catalog.styles[job.style].name if job.style in catalog.styles else job.style
    product = catalog.products[job.product].name if job.product in catalog.products else job.product
    prompt = job.prompt if clip is None or len(job.prompt) <= clip else job.prompt[:clip - 1] + "…"
    return f"{job.status.value} · {style} · {product} — {prompt}"


@dataclass(frozen=True)
class JobDisplay:
    """The status card, and the design with its mockup once the job completed."""

    status: str
    design: str | None = None
    mockup: str | None = None


def job_display(files: StudioFiles, job: Job) -> JobDisplay:
    if job.status is not JobStatus.COMPLETED:
        return JobDisplay(status_html([JobView(job)]))
    return JobDisplay(status_html([JobView(job)]), files.design(job), files.mockup(job))


@dataclass(frozen=True)
class JobActions:
    """Which follow-up buttons a job offers."""

    variation: bool = False
    reuse: bool = False
    retry: bool = False


def actions_for(job: Job | None) -> JobActions:
    """Variation and reuse for any finished job; retry for a failed or canceled one."""
    if job is None:
        return JobActions()
    finished = job.status.is_terminal
    return JobActions(variation=finished, reuse=finished, retry=job.status in {JobStatus.FAILED, JobStatus.CANCELED})


class BriefValues(NamedTuple):
    """A parsed brief as the brief fields show it."""

    subject: str
    colors: str
    mood: str
    composition: str
    final_prompt: str
    final_negative: str


def brief_values(brief: ParsedPrompt) -> BriefValues:
    return BriefValues(subject=brief.subject, colors=", ".join(brief.colors), mood=brief.mood or "",
                       composition=brief.composition or "", final_prompt=brief.prompt,
                       final_negative=brief.negative_prompt)


EMPTY_BRIEF = BriefValues("", "", "", "", "", "")


class JobSettings(NamedTuple):
    """A job's settings as the Generate form holds them, in the form's settings order."""

    prompt: str
    style: str
    product: str
    seed: int | None
    random_seed: bool
    steps: Any  # the brief's steps, or gr.skip() to keep the slider where it is
    negative_prompt: str
    images: int
    subject: str
    colors: str
    mood: str
    composition: str
    final_prompt: str
    final_negative: str
    brief_panel: gr.Accordion


def settings_values(job: Job) -> JobSettings:
    """A job's settings, the brief included and shown (so generating again reproduces the same
    brief), for one image with the job's own seed."""
    brief = ParsedPrompt.model_validate(job.parsed_prompt)
    return JobSettings(prompt=job.prompt, style=job.style, product=job.product, seed=job.seed, random_seed=False,
                       steps=brief.steps or gr.skip(), negative_prompt=brief.negative_prompt, images=1,
                       **brief_values(brief)._asdict(), brief_panel=gr.Accordion(open=True))
