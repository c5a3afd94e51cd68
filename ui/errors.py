"""What a designer sees when something goes wrong: a readable message, never a stack trace."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from core.errors import TenkaiGenError

log = logging.getLogger("tenkaigen.studio")

F = TypeVar("F", bound=Callable[..., Any])

UNEXPECTED = "Something went wrong on our side and it has been logged. Please try again."


def as_gradio_error(exc: Exception) -> gr.Error:
    """Domain errors keep their message (it is written for users); anything else is logged
    with its traceback and shown as a generic line."""
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, TenkaiGenError):
        return gr.Error(str(exc), print_exception=False)
    log.exception("studio handler failed")
    return gr.Error(UNEXPECTED, print_exception=False)


def readable_errors(fn: F) -> F:
    """Wraps a handler (plain, async or async generator) so its errors reach the page as gr.Error."""
    if inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        async def stream(*args: Any, **kwargs: Any) -> Any:
            try:
                async for item in fn(*args, **kwargs):
                    yield item
            except Exception as exc:
                raise as_gradio_error(exc) from None

        return stream  # type: ignore[return-value]
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                raise as_gradio_error(exc) from None

        return call_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise as_gradio_error(exc) from None

    return call  # type: ignore[return-value]
