"""What a Generate tab's session remembers between events, bound to the user who made it.

Gradio keeps gr.State per session hash. A caller who sends another user's session hash gets
that session's state as input; so every value here names its owner, and a handler refuses
state owned by someone else with a message that repeats none of it (and writes none of it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import gradio as gr

# the result grid keeps this many designs (a batch and the variations made from it)
MAX_GRID = 8

FOREIGN_SESSION = "This page's session belongs to another sign-in. Reload the page to start your own."


class Owned(Protocol):
    @property
    def owner(self) -> str: ...


S = TypeVar("S", bound=Owned)


def checked(state: S | None, user: str) -> S | None:
    """The state if `user` may read and write it (theirs, or none yet); gr.Error otherwise."""
    if state is not None and getattr(state, "owner", None) != user:
        raise gr.Error(FOREIGN_SESSION, print_exception=False)
    return state


@dataclass(frozen=True)
class ShownJobs:
    """The jobs in the result grid, oldest first, and the one whose design is on show."""

    owner: str
    ids: tuple[str, ...] = ()
    current: str | None = None

    def with_new(self, job_ids: list[str], keep: bool) -> ShownJobs:
        """`job_ids` added to the grid (`keep`: beside the designs already there), the first on show."""
        ids = (*self.ids, *job_ids) if keep else tuple(job_ids)
        return replace(self, ids=ids[-MAX_GRID:], current=job_ids[0])

    def showing(self, job_id: str) -> ShownJobs:
        return replace(self, current=job_id)


def brief_fingerprint(prompt: str | None, style: str | None, product: str | None, negative: str | None) -> str:
    """What a brief was parsed from: the idea (whitespace folded, as the parser reads it), style,
    product and negative prompt. Two forms with the same fingerprint would parse the same brief."""
    source = [" ".join((prompt or "").split()), style or "", product or "", (negative or "").strip()]
    return hashlib.sha256(json.dumps(source).encode()).hexdigest()


@dataclass(frozen=True)
class BriefSource:
    """The fingerprint of the form the brief fields were filled from (None: no brief, or one
    typed in by hand, which belongs to whatever idea is on screen)."""

    owner: str
    fingerprint: str | None = None

    def matches(self, prompt: str, style: str, product: str, negative: str) -> bool:
        return self.fingerprint is None or self.fingerprint == brief_fingerprint(prompt, style, product, negative)
