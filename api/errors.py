"""Domain errors to HTTP status codes, in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core.errors import (
    Forbidden,
    GeneratorUnavailable,
    InvalidRequest,
    InvalidTransition,
    JobNotFound,
    JobNotReady,
    LoginThrottled,
    QuotaExceeded,
    StorageError,
    TenkaiGenError,
    Unauthenticated,
    UpstreamError,
    WebhookRejected,
)
from core.logsafe import safe

log = logging.getLogger(__name__)

# first match wins: subclasses (QuotaExceeded is an InvalidRequest) come before their bases
STATUS_BY_ERROR: dict[type[TenkaiGenError], int] = {
    QuotaExceeded: 429,
    LoginThrottled: 429,
    Unauthenticated: 401,
    Forbidden: 403,
    JobNotFound: 404,
    InvalidTransition: 409,
    JobNotReady: 409,
    InvalidRequest: 422,
    WebhookRejected: 401,
    StorageError: 503,
    GeneratorUnavailable: 503,
    UpstreamError: 502,
}


def status_for(error: TenkaiGenError) -> int:
    for error_type, status in STATUS_BY_ERROR.items():
        if isinstance(error, error_type):
            return status
    return 500


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TenkaiGenError)
    async def _domain_error(request: Request, exc: TenkaiGenError) -> JSONResponse:
        status = status_for(exc)
        log.info("request refused path=%s status=%s error=%s", safe(request.url.path), status, safe(exc))
        return JSONResponse(status_code=status, content={"detail": str(exc)}, headers=headers_for(exc))


def headers_for(error: TenkaiGenError) -> dict[str, str] | None:
    if isinstance(error, QuotaExceeded):
        return {"Retry-After": str(error.retry_after)}
    if isinstance(error, LoginThrottled):
        return {"Retry-After": str(error.retry_after_s)}
    if isinstance(error, Unauthenticated):
        realm = ' realm="TenkaiGen"' if error.scheme == "Basic" else ""
        return {"WWW-Authenticate": f"{error.scheme}{realm}"}
    return None
