"""/api/health (liveness), /api/ready (readiness) and /metrics (Prometheus): for the operator's tools."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.errors import error_responses
from core.errors import Forbidden, Unauthenticated
from core.ops import metrics
from core.ops.readiness import Readiness
from core.settings import Settings

router = APIRouter(tags=["ops"])
# headers a reverse proxy adds: a request carrying one did not come from this machine's own scraper
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


@router.get("/api/health")
def health(services: ServicesDep) -> dict[str, str]:
    """Liveness: the process answers. No I/O, so a slow database never gets a live process restarted."""
    return {"status": "ok", "generator": services.generation.generator.model_name}


@router.get("/api/ready", responses=error_responses(503, described={503: "a part the app needs does not answer: `detail` names it; the body also carries each check"}))
async def ready(request: Request) -> JSONResponse:
    """Readiness: the database, the bucket and a remote worker answer (kept for a couple of seconds)."""
    readiness: Readiness = request.app.state.readiness
    report = await run_in_threadpool(readiness.check)
    body: dict[str, Any] = report.as_dict()
    if not report.ready:
        body["detail"] = "not ready: " + ", ".join(report.failing) + " failing"
    return JSONResponse(body, status_code=200 if report.ready else 503)


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(request: Request, services: ServicesDep) -> Response:
    """Prometheus text format; who may read it is TENKAIGEN_METRICS's choice (allow_scrape)."""
    allow_scrape(request, services.settings)
    text = await run_in_threadpool(metrics.exposition, lambda: metrics.in_flight_count(services.generation.jobs))
    return Response(text, media_type=metrics.CONTENT_TYPE)


def allow_scrape(request: Request, settings: Settings) -> None:
    """Refuse the scrape unless the settings allow this caller (see core/settings.py, `metrics`)."""
    mode = settings.metrics
    token = settings.metrics_token.get_secret_value().strip() if settings.metrics_token else ""
    if mode == "off":
        raise HTTPException(404, "Not Found")
    if mode == "public":
        return
    if mode == "token" or token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise Unauthenticated("metrics need `Authorization: Bearer <TENKAIGEN_METRICS_TOKEN>`")
        return
    if not _direct_loopback(request):
        raise Forbidden("metrics are served to this machine only: set TENKAIGEN_METRICS_TOKEN to scrape "
                        "from elsewhere (or TENKAIGEN_METRICS=public)")


def _direct_loopback(request: Request) -> bool:
    if any(header in request.headers for header in FORWARDING_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
