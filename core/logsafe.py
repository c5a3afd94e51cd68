"""User text and ids as one safe log token.

A job id taken from a URL, an account name or a worker's error message may hold a newline
(`%0a` in a status URL) that would forge a second log line, or be megabytes long. `safe`
escapes control and non-printable characters the way `repr` does and cuts the result.
"""

from __future__ import annotations

DEFAULT_LIMIT = 200


def safe(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """`value` on one line: control characters, backslashes and line separators escaped
    (`\\n`, `\\x1b`, `\\u2028`), cut to `limit` characters with `...` marking the cut."""
    text = value if isinstance(value, str) else str(value)
    # repr escapes exactly what must not reach a log line raw; the slice drops its quotes
    escaped = repr(text[: limit + 1])[1:-1]
    if len(escaped) > limit or len(text) > limit:
        return escaped[:limit] + "..."
    return escaped
