"""/api/me (who am I, how much quota is left) and the admin view of any user's quota."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, IdentityDep, ServicesDep
from api.errors import error_responses
from api.schemas import MeResponse, QuotaView
from core.jobs.service import GenerationService

router = APIRouter(prefix="/api", tags=["account"])


def _quota_view(service: GenerationService, user_id: str) -> QuotaView:
    limits, usage = service.quotas, service.quota_usage(user_id)
    return QuotaView(
        per_minute=limits.per_minute,
        per_day=limits.per_day,
        in_flight=limits.in_flight,
        used_last_minute=usage.last_minute,
        used_last_day=usage.last_day,
        in_flight_now=usage.in_flight,
    )


@router.get("/me", response_model=MeResponse, responses=error_responses(401, 429))
def me(identity: IdentityDep, services: ServicesDep) -> MeResponse:
    return MeResponse(
        user_id=identity.user_id,
        is_admin=identity.is_admin,
        auth=services.authenticator.mode,
        quota=_quota_view(services.generation, identity.user_id),
    )


@router.get(
    "/admin/users/{user_id}/quota", response_model=QuotaView, tags=["admin"], responses=error_responses(401, 403, 429)
)
def user_quota(user_id: str, _admin: AdminDep, services: ServicesDep) -> QuotaView:
    """Any user's limits and usage (admin role)."""
    return _quota_view(services.generation, user_id)
