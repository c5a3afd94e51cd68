"""What a route may depend on: the services built by app.py, and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from core.auth import Identity
from core.errors import Forbidden
from core.services import Services


# The dependencies are `async def` though they do not await: FastAPI runs a plain `def`
# dependency in the thread pool, a hand-off that costs more than the work itself.
async def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_identity(request: Request, services: Annotated[Services, Depends(get_services)]) -> Identity:
    """The caller, from the Authorization header; 401 (Unauthenticated) when it proves nothing."""
    authenticator = services.authenticator
    authorization = request.headers.get("authorization")
    if not authenticator.blocks:
        return authenticator.authenticate(authorization)
    # a password check (scrypt) or a JWKS fetch may block: keep it off the event loop
    return await run_in_threadpool(authenticator.authenticate, authorization)


async def get_user_id(identity: Annotated[Identity, Depends(get_identity)]) -> str:
    return identity.user_id


async def require_admin(identity: Annotated[Identity, Depends(get_identity)]) -> Identity:
    """The caller, when they hold the admin role; 403 (Forbidden) otherwise."""
    if not identity.is_admin:
        raise Forbidden("this needs the admin role")
    return identity


ServicesDep = Annotated[Services, Depends(get_services)]
IdentityDep = Annotated[Identity, Depends(get_identity)]
UserIdDep = Annotated[str, Depends(get_user_id)]
AdminDep = Annotated[Identity, Depends(require_admin)]
