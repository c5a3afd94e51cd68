"""Typed domain errors. The HTTP layer maps each one to a status code in one place."""

from __future__ import annotations

import math


class TenkaiGenError(Exception):
    """Base class of every error the domain raises on purpose."""


class JobNotFound(TenkaiGenError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} not found")
        self.job_id = job_id


class InvalidTransition(TenkaiGenError):
    def __init__(self, job_id: str, current: str, target: str) -> None:
        super().__init__(f"job {job_id} cannot move from {current} to {target}")
        self.job_id = job_id
        self.current = current
        self.target = target


class InvalidRequest(TenkaiGenError):
    """The caller asked for something the catalog or the rules do not allow."""


class StorageError(TenkaiGenError):
    """The object store failed to write or read an object."""


class GeneratorUnavailable(TenkaiGenError):
    """The generation backend could not accept a job."""


class JobNotReady(TenkaiGenError):
    """The job exists but has not reached the state the request needs (e.g. not completed yet)."""


class UpstreamError(TenkaiGenError):
    """An external service (Printful) failed, timed out or refused the call."""


class PublishingUnavailable(TenkaiGenError):
    """Publishing to the store cannot be done now: Printful is unreachable or refused the call
    (its reason is in the message; the token never is)."""


class NotPublishable(TenkaiGenError):
    """This job cannot go to the store as things stand: its print file fails preflight, its
    product has no Printful product, Printful is not set up or storage is not reachable from
    it, or it is being published right now."""


class WebhookRejected(TenkaiGenError):
    """A webhook's signature, timestamp or body is not acceptable."""


class QuotaExceeded(InvalidRequest):
    """The user is over one of their job limits; `retry_after` seconds until a slot frees."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class Unauthenticated(TenkaiGenError):
    """The request carries no valid credentials (missing, malformed, forged or expired)."""

    def __init__(self, message: str = "sign in required", scheme: str = "Bearer") -> None:
        super().__init__(message)
        self.scheme = scheme


class Forbidden(TenkaiGenError):
    """The caller is known but lacks the role the action needs."""


class LoginThrottled(TenkaiGenError):
    """Too many failed sign-ins for this account or address: no password is checked for
    `retry_after_s` seconds."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = max(1, math.ceil(retry_after_s))
        super().__init__(f"too many failed sign-ins: try again in {self.retry_after_s} s")
