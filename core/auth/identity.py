"""Who a request is from, and what a user id may look like."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A user id names its owner's folder in the object store (core/storage/base.py image_key), so
# every way in makes one of these: letters, digits and . _ @ -, starting with a letter or
# digit, no "..". Local account names are user ids; Supabase's are UUIDs.
USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")
SUPABASE_USER_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_valid_user_id(value: object) -> bool:
    return isinstance(value, str) and USER_ID.fullmatch(value) is not None and ".." not in value


@dataclass(frozen=True)
class Identity:
    """The caller: `user_id` owns their jobs; `is_admin` opens the admin routes."""

    user_id: str
    is_admin: bool = False
    name: str = ""
