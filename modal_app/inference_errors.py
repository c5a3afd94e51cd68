"""The errors the inference code raises on purpose; each message is meant for the user.

All are `InferenceError`s (the contract's), which the job runner passes on as written.
"""

from __future__ import annotations

from core.worker_contract.engine import InferenceError


class InvalidInferenceInput(InferenceError, ValueError):
    """A request parameter is out of range; the message names the parameter."""


class ModelWeightsMissing(InferenceError):
    """The weights are not on disk and downloads are not allowed; the message says how to fetch them."""


class OptionalDependencyMissing(InferenceError):
    """An option (Lightning needs `peft`, 4-bit needs `nunchaku`) was asked for without its package."""


class InferenceOutOfMemory(InferenceError):
    """The device ran out of memory for this request."""
