"""What a route may depend on: the services built by app.py, and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from core.auth import Identity
from core.errors import Forbidden
from core.services import Services


def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_identity(request: Request, services: Annotated[Services, Depends(get_services)]) -> Identity:
    """The caller, from the Authorization header; 401 (Unauthenticated) when it proves nothing."""
    # a password check (scrypt) or a JWKS fetch may block: keep it off the event loop
    return await run_in_threadpool(services.authenticator.authenticate, request.headers.get("authorization"))


def get_user_id(identity: Annotated[Identity, Depends(get_identity)]) -> str:
    return identity.user_id


def require_admin(identity: Annotated[Identity, Depends(get_identity)]) -> Identity:
    """The caller, when they hold the admin role; 403 (Forbidden) otherwise."""
    if not identity.is_admin:
        raise Forbidden("this needs the admin role")
    return identity


ServicesDep = Annotated[Services, Depends(get_services)]
IdentityDep = Annotated[Identity, Depends(get_identity)]
UserIdDep = Annotated[str, Depends(get_user_id)]
AdminDep = Annotated[Identity, Depends(require_admin)]
