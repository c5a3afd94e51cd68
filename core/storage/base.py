"""The ObjectStore protocol and the storage layout shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


def image_key(prefix: str, user_id: str, job_id: str, suffix: str = "") -> str:
    """`{prefix}{user_id}/{job_id}{suffix}.png`, the layout existing buckets already use."""
    return f"{prefix}{user_id}/{job_id}{suffix}.png"


@dataclass(frozen=True)
class StorageUsage:
    objects: int
    bytes: int


class ObjectStore(Protocol):
    """Where finished images live. Keys are full object keys (prefix included)."""

    prefix: str

    def put_png(self, key: str, data: bytes) -> None:
        """Store `data` under `key` as image/png; overwriting is allowed (idempotent)."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raises StorageError when it is missing or unreadable."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error (idempotent)."""
        ...

    def public_url(self, key: str) -> str:
        """The URL the app hands out for the object."""
        ...

    def usage(self) -> StorageUsage:
        """Objects and bytes stored under the prefix."""
        ...
