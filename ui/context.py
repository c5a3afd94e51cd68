"""What every tab of the studio works with: the services, the caller's identity, image files."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from core.dashboard import DashboardService
from core.service import GenerationService
from ui.files import StudioFiles


@dataclass(frozen=True)
class StudioContext:
    service: GenerationService
    dashboard: DashboardService
    files: StudioFiles
    local_user: str
    generator_label: str
    default_steps: int = 50
    poll_interval_s: float = 0.4  # how often a streaming job status is re-read
    max_wait_s: float = 900.0  # a stream stops watching after this; the job stays in the history

    def user(self, request: gr.Request | None) -> str:
        """The caller: the logged-in Gradio user when auth is on, else the one local user."""
        username = getattr(request, "username", None) if request is not None else None
        return username or self.local_user
