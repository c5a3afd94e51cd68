"""Who a request is from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """The caller: `user_id` owns their jobs; `is_admin` opens the admin routes."""

    user_id: str
    is_admin: bool = False
    name: str = ""
