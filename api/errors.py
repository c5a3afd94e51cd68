"""Domain errors to HTTP status codes, in one place."""

from __future__ import annotations

import logging

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from core.errors import (
    Forbidden,
    GeneratorUnavailable,
    InvalidRequest,
    InvalidTransition,
    JobNotFound,
    JobNotReady,
    QuotaExceeded,
    StorageError,
    TenkaiGenError,
    Unauthenticated,
    UpstreamError,
    WebhookRejected,
)

log = logging.getLogger(__name__)

# first match wins: subclasses (QuotaExceeded is an InvalidRequest) come before their bases
STATUS_BY_ERROR: dict[type[TenkaiGenError], int] = {
    QuotaExceeded: 429,
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
        log.info("request refused path=%s status=%s error=%s", request.url.path, status, exc)
        return JSONResponse(status_code=status, content={"detail": str(exc)}, headers=headers_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's own 422 body, with the echoed input made encodable: a lone surrogate
        ("\\ud800") in it would turn the 422 into a 500 while the response is written."""
        return JSONResponse(status_code=422, content={"detail": _encodable(jsonable_encoder(exc.errors()))})


def _encodable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_encodable(item) for item in value]
    if isinstance(value, dict):
        return {key: _encodable(item) for key, item in value.items()}
    return value


def headers_for(error: TenkaiGenError) -> dict[str, str] | None:
    if isinstance(error, QuotaExceeded):
        return {"Retry-After": str(error.retry_after)}
    if isinstance(error, Unauthenticated):
        realm = ' realm="TenkaiGen"' if error.scheme == "Basic" else ""
        return {"WWW-Authenticate": f"{error.scheme}{realm}"}
    return None
