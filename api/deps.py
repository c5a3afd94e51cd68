"""What a route may depend on: the services built by app.py, and the caller's identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from core.service import GenerationService


@dataclass(frozen=True)
class AppServices:
    """Everything app.py wires together, stored on `app.state.services`."""

    generation: GenerationService
    webhook_secret: str
    local_user: str
    max_webhook_bytes: int = 32 * 1024 * 1024


def get_services(request: Request) -> AppServices:
    return request.app.state.services


def get_user_id(services: Annotated[AppServices, Depends(get_services)]) -> str:
    # Until accounts arrive, every request belongs to the one local user.
    return services.local_user


ServicesDep = Annotated[AppServices, Depends(get_services)]
UserIdDep = Annotated[str, Depends(get_user_id)]
