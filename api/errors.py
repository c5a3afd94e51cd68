"""Domain errors to HTTP status codes, in one place, and the one error body they all answer
(`ErrorBody`, `{"detail": "..."}`), as the OpenAPI document states it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.schemas import ErrorBody

from core.errors import (
    Forbidden,
    GeneratorUnavailable,
    InvalidRequest,
    InvalidTransition,
    JobNotFound,
    JobNotReady,
    LoginThrottled,
    NotPublishable,
    PublishingUnavailable,
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
    NotPublishable: 409,
    InvalidRequest: 422,
    WebhookRejected: 401,
    StorageError: 503,
    GeneratorUnavailable: 503,
    PublishingUnavailable: 503,
    UpstreamError: 502,
}


def status_for(error: TenkaiGenError) -> int:
    for error_type, status in STATUS_BY_ERROR.items():
        if isinstance(error, error_type):
            return status
    return 500


# what each error status means, for the OpenAPI document; a route may word one its own way
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The body could not be read as JSON text (it is not UTF-8)",
    401: "Not signed in, or the credentials are wrong (WWW-Authenticate names the scheme)",
    403: "Signed in without the admin role",
    404: "No such job for this caller",
    409: "The job's status does not allow this",
    413: "The request body is over the size limit",
    422: "The request is not valid: a missing or malformed field, or a value the service refuses",
    429: "Too many requests: a quota is spent or sign-ins are throttled (Retry-After says when to retry)",
    503: "Storage or the generator is unavailable; retry later",
}
_ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Basic or Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}},
}
MAX_VALIDATION_PROBLEMS = 10  # a body with a hundred wrong fields does not need a hundred lines


def error_responses(*statuses: int, described: Mapping[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=`: the error statuses it can answer, each with `ErrorBody`;
    `described` words some of them for that route."""
    described = described or {}
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {"model": ErrorBody, "description": described.get(status, ERROR_DESCRIPTIONS[status])}
        if status in _ERROR_HEADERS:
            response["headers"] = _ERROR_HEADERS[status]
        responses[status] = response
    return responses


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """FastAPI's validation errors as one sentence naming each field: `style: Field required`."""
    problems: list[str] = []
    for error in errors:
        if error.get("type") == "json_invalid":  # its loc is a character position, not a field
            reason = (error.get("ctx") or {}).get("error", "")
            problem = f"the request body is not valid JSON{': ' + reason if reason else ''}"
        else:
            problem = f"{_field_name(error.get('loc', ()))}: {error.get('msg', 'is not valid')}"
        if problem not in problems:
            problems.append(problem)
    if len(problems) > MAX_VALIDATION_PROBLEMS:
        more = len(problems) - MAX_VALIDATION_PROBLEMS
        problems = [*problems[:MAX_VALIDATION_PROBLEMS], f"and {more} more"]
    return "; ".join(problems) or "the request is not valid"


def _field_name(loc: Sequence[Any]) -> str:
    where, *path = [str(part) for part in loc] or ["body"]
    name = ".".join(path)
    if where == "body":
        return name or "the request body"
    if where in ("query", "path", "header", "cookie"):
        return f"{where} parameter {name}" if name else where
    return ".".join([where, *path])


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TenkaiGenError)
    async def _domain_error(request: Request, exc: TenkaiGenError) -> JSONResponse:
        status = status_for(exc)
        log.info("request refused path=%s status=%s error=%s", safe(request.url.path), status, safe(exc))
        return JSONResponse(status_code=status, content={"detail": str(exc)}, headers=headers_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = describe_validation_errors(exc.errors())
        log.info("request refused path=%s status=422 error=%s", request.url.path, detail)
        return JSONResponse(status_code=422, content={"detail": _encodable(detail)})

    app.openapi = _with_one_error_shape(app, app.openapi)


def _with_one_error_shape(app: FastAPI, build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """`app.openapi` whose 422 answers are `ErrorBody`: FastAPI documents a 422 with its own
    `HTTPValidationError` (a list) on every route that takes input a route did not declare
    itself; the handler above answers those with `ErrorBody`, so the document says so."""
    default_422 = "#/components/schemas/HTTPValidationError"
    error_body = "#/components/schemas/ErrorBody"

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                response = operation.get("responses", {}).get("422")
                if response and _schema_ref(response) == default_422:
                    response["description"] = ERROR_DESCRIPTIONS[422]
                    response["content"]["application/json"]["schema"] = {"$ref": error_body}
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas.setdefault("ErrorBody", ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}"))
        app.openapi_schema = schema
        return schema

    return openapi


def _schema_ref(response: dict[str, Any]) -> str | None:
    return response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")


def _encodable(value: Any) -> Any:
    """Echoed input made encodable: a lone surrogate ("\\ud800") in it would turn the 422 into
    a 500 while the response is written."""
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
    if isinstance(error, LoginThrottled):
        return {"Retry-After": str(error.retry_after_s)}
    if isinstance(error, Unauthenticated):
        realm = ' realm="TenkaiGen"' if error.scheme == "Basic" else ""
        return {"WWW-Authenticate": f"{error.scheme}{realm}"}
    return None
