"""What every tab of the studio works with: the services, the caller's identity, image files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from core.auth import Identity
from core.jobs.limits import DEFAULT_MAX_PROMPT_CHARS
from core.jobs.service import GenerationService
from core.ops.dashboard import DashboardService
from core.publishing.service import PublishingService
from core.services import Services
from ui.files import StudioFiles


@dataclass(frozen=True)
class StudioContext:
    service: GenerationService
    dashboard: DashboardService
    files: StudioFiles
    # the caller from the username Gradio's login put on the request (None with auth off)
    identify: Callable[[str | None], Identity]
    generator_label: str
    default_steps: int = 50
    max_prompt_chars: int = DEFAULT_MAX_PROMPT_CHARS  # the idea's limit, for the counter under it
    poll_interval_s: float = 0.4  # how often a streaming job status is re-read
    max_wait_s: float = 900.0  # a stream stops watching after this; the job stays in the history
    publishing: PublishingService | None = None  # the Publish section (variants, official mockups, store)

    @classmethod
    def from_services(cls, services: Services, files: StudioFiles) -> StudioContext:
        authenticator = services.authenticator
        return cls(
            service=services.generation,
            dashboard=services.dashboard,
            files=files,
            # the signed-in username from Gradio's login ("" with auth off: the local admin)
            identify=lambda username: authenticator.identity_for(username or ""),
            generator_label=services.generator_label,
            default_steps=services.default_steps,
            max_prompt_chars=services.settings.max_prompt_chars,
            publishing=services.publishing,
        )

    def identity(self, request: gr.Request | None) -> Identity:
        """Unauthenticated (shown as a message) when the session's sign-in is not known."""
        return self.identify(getattr(request, "username", None) if request is not None else None)

    def user(self, request: gr.Request | None) -> str:
        return self.identity(request).user_id
