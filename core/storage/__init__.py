"""Object storage for finished images: S3-compatible (B2, R2, S3) or a local folder."""

from core.storage.base import ObjectInfo, ObjectStore, PresignedUpload, StorageUsage, image_key
from core.storage.local import LocalObjectStore
from core.storage.s3 import S3ObjectStore, make_s3_client

__all__ = ["LocalObjectStore", "ObjectInfo", "ObjectStore", "PresignedUpload", "S3ObjectStore", "StorageUsage", "image_key", "make_s3_client"]
