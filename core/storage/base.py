"""The ObjectStore protocol and the storage layout shared by every backend."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from core.errors import StorageError

# what an id may be to become one segment of an object key: no "/" to add a folder, no ".."
# to leave one (the local store's folder, or another user's prefix in a bucket)
KEY_SEGMENT = re.compile(r"[A-Za-z0-9_.@-]+")


def image_key(prefix: str, user_id: str, job_id: str, suffix: str = "", extension: str = "png") -> str:
    """`{prefix}{user_id}/{job_id}{suffix}.{extension}`, the layout existing buckets already use;
    StorageError for an id that is not a plain key segment (letters, digits and . _ @ -, no "..")."""
    for what, value in (("user id", user_id), ("job id", job_id), ("suffix", suffix or "_")):
        if not is_key_segment(value):
            raise StorageError(f"{what} {value!r} cannot be part of an object key")
    return f"{prefix}{user_id}/{job_id}{suffix}.{extension}"


def is_key_segment(value: str) -> bool:
    return KEY_SEGMENT.fullmatch(value) is not None and ".." not in value and value != "."


@dataclass(frozen=True)
class StorageUsage:
    objects: int
    bytes: int


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD tells of a stored object, and its first bytes when they were asked for."""

    bytes: int
    content_type: str | None
    first_bytes: bytes = b""


@dataclass(frozen=True)
class PresignedUpload:
    """A URL anyone holding it may PUT one object to, until it expires, sending `headers` as given."""

    url: str
    headers: dict[str, str]


class ObjectStore(Protocol):
    """Where finished images live. Keys are full object keys (prefix included)."""

    prefix: str

    def put_png(self, key: str, data: bytes) -> None:
        """Store `data` under `key` as image/png; overwriting is allowed (idempotent)."""
        ...

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key` with its content type (an SVG: image/svg+xml); idempotent."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raises StorageError when it is missing or unreadable."""
        ...

    def exists(self, key: str) -> bool: ...

    def head(self, key: str, first_bytes: int = 0) -> ObjectInfo | None:
        """Size and content type of the object, and up to `first_bytes` of its leading bytes (one
        request either way: a ranged GET on a bucket); None when it is missing (StorageError when
        unreadable)."""
        ...

    def presigned_put_url(self, key: str, expires_s: int) -> PresignedUpload | None:
        """A URL another machine (the GPU worker) can PUT the PNG for `key` to, valid `expires_s`
        seconds; None when this store has no such URL (a local folder)."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error (idempotent)."""
        ...

    def public_url(self, key: str) -> str:
        """The URL the app hands out for the object."""
        ...

    def usage(self) -> StorageUsage:
        """Objects and bytes stored under the prefix."""
        ...
