"""Local folder storage: the embedded default, served by the app under /media."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from core.errors import StorageError
from core.storage.base import ObjectInfo, PresignedUpload, StorageUsage


class LocalObjectStore:
    def __init__(self, root: Path, prefix: str, public_base_url: str = "/media") -> None:
        self.root = root.resolve()
        self.prefix = prefix
        self._public_base_url = public_base_url.rstrip("/")
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"object key escapes the storage folder: {key!r}")
        return path

    def put_png(self, key: str, data: bytes) -> None:
        self.put(key, data, "image/png")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # the folder keeps no content type: /media answers one from the key's extension
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # write then rename, so a reader never sees half a file
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".part") as tmp:
                tmp.write(data)
            os.replace(tmp.name, path)
        except OSError as exc:
            raise StorageError(f"could not write {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as exc:
            raise StorageError(f"could not read {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def head(self, key: str, first_bytes: int = 0) -> ObjectInfo | None:
        path = self._path(key)
        try:
            size = path.stat().st_size
            leading = b""
            if first_bytes > 0:
                with path.open("rb") as file:
                    leading = file.read(first_bytes)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"could not read {key}: {exc}") from exc
        return ObjectInfo(bytes=size, content_type="image/png" if path.suffix == ".png" else None, first_bytes=leading)

    def presigned_put_url(self, key: str, expires_s: int) -> PresignedUpload | None:
        """None: a folder on this machine has no URL a worker elsewhere could PUT to."""
        return None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"could not delete {key}: {exc}") from exc

    def public_url(self, key: str) -> str:
        return f"{self._public_base_url}/{key}"

    def usage(self) -> StorageUsage:
        base = self.root / self.prefix if self.prefix else self.root
        files = [p for p in base.rglob("*.png") if p.is_file()] if base.exists() else []
        return StorageUsage(objects=len(files), bytes=sum(p.stat().st_size for p in files))
