"""Services: what app.py builds once and every door (HTTP API, studio, operator commands) receives.

Each layer takes the fields it needs from this one object; none keeps a container of its own
with the same things. app.py fills it from settings (`build_services`, over core.backends); tests fill it from
real local backends.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.auth import AccountStore, Authenticator
from core.catalog import Catalog
from core.jobs.recovery import JobRecovery
from core.jobs.service import GenerationService
from core.ops.dashboard import DashboardService
from core.publishing.mockup_queue import MockupQueue
from core.publishing.service import PublishingService
from core.settings import Settings


@dataclass
class Services:
    settings: Settings
    catalog: Catalog
    generation: GenerationService
    dashboard: DashboardService
    accounts: AccountStore
    authenticator: Authenticator
    recovery: JobRecovery
    # the Standard Webhooks secret shared with the GPU worker (whsec_...)
    webhook_secret: str
    # a completed design to the Printful store (variants, official mockups, publish)
    publishing: PublishingService
    # drains the shared mockup queue; None without PRINTFUL_API_TOKEN (api.app's lifespan runs it)
    mockup_queue: MockupQueue | None = None

    @property
    def local_user(self) -> str:
        return self.settings.local_user

    @property
    def generator_label(self) -> str:
        """Shown in the studio's header: which generator turns briefs into images."""
        return self.generation.generator.label

    @property
    def default_steps(self) -> int:
        return self.settings.generation_steps

    def close(self) -> None:
        """Release every backend (generator, print processor, callback senders, Printful, accounts, jobs database), in that order."""
        self.generation.generator.close()
        self.generation.printing.close()
        if self.generation.callbacks is not None:
            self.generation.callbacks.close()
        if self.publishing.printful is not None:
            self.publishing.printful.close()
        self.publishing.store.close()
        self.accounts.close()
        self.generation.jobs.close()
