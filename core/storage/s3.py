"""S3-compatible storage with boto3: Backblaze B2 by default, Cloudflare R2 or any S3."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.errors import StorageError
from core.storage.base import ObjectInfo, PresignedUpload, StorageUsage

PNG_CONTENT_TYPE = "image/png"


def make_s3_client(
    endpoint: str | None,
    region: str | None,
    access_key_id: str | None,
    secret_access_key: str | None,
    timeout_s: float = 15.0,
) -> Any:
    """A boto3 S3 client with timeouts and standard retries (S3 puts and gets are idempotent)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=region or "us-east-1",
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=Config(
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            retries={"max_attempts": 4, "mode": "standard"},
            # one connection per upload the webhook threads may run at once (urllib3 keeps 10)
            max_pool_connections=40,
            s3={"addressing_style": "path"},
            # B2 and R2 reject the newer default checksum headers on some operations
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def _total_size(answer: dict[str, Any]) -> int:
    """The whole object's size from a ranged GET's `Content-Range: bytes 0-32/1623456` (a store
    that ignored the range sent the whole object: its length)."""
    content_range = answer.get("ContentRange") or ""
    total = content_range.rpartition("/")[2]
    return int(total) if total.isdigit() else int(answer.get("ContentLength", 0))


class S3ObjectStore:
    def __init__(self, client: Any, bucket: str, prefix: str, endpoint: str | None, public_base_url: str | None = None) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self._endpoint = (endpoint or f"https://{bucket}.s3.amazonaws.com").rstrip("/")
        self._public_base_url = public_base_url.rstrip("/") if public_base_url else None

    @property
    def client(self) -> Any:
        """The boto3 client, for operator commands that manage the bucket itself."""
        return self._client

    @property
    def endpoint(self) -> str:
        return self._endpoint

    def put_png(self, key: str, data: bytes) -> None:
        self.put(key, data, "image/png")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"Failed to upload {key} to bucket {self.bucket}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"Failed to read {key} from bucket {self.bucket}: {exc}") from exc

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise StorageError(f"Failed to check {key} in bucket {self.bucket}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"Failed to check {key} in bucket {self.bucket}: {exc}") from exc

    def head(self, key: str, first_bytes: int = 0) -> ObjectInfo | None:
        """HEAD, or with `first_bytes` a ranged GET: the same one request, and Content-Range
        carries the whole object's size."""
        try:
            if first_bytes > 0:
                try:
                    answer = self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{first_bytes - 1}")
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "InvalidRange":
                        raise
                    return self.head(key)  # an empty object has no byte 0
                return ObjectInfo(bytes=_total_size(answer), content_type=answer.get("ContentType"),
                                  first_bytes=answer["Body"].read(first_bytes))
            answer = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise StorageError(f"Failed to check {key} in bucket {self.bucket}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"Failed to check {key} in bucket {self.bucket}: {exc}") from exc
        return ObjectInfo(bytes=int(answer.get("ContentLength", 0)), content_type=answer.get("ContentType"))

    def presigned_put_url(self, key: str, expires_s: int) -> PresignedUpload | None:
        """A SigV4 presigned PUT for `key` that also signs Content-Type: image/png, so the object
        is stored as a PNG (the worker must send that header). Computed locally: no request."""
        try:
            url = self._client.generate_presigned_url(
                "put_object",
                Params={"Bucket": self.bucket, "Key": key, "ContentType": PNG_CONTENT_TYPE},
                ExpiresIn=int(expires_s),
                HttpMethod="PUT",
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"Failed to presign an upload of {key} to bucket {self.bucket}: {exc}") from exc
        return PresignedUpload(url=url, headers={"Content-Type": PNG_CONTENT_TYPE})

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"Failed to delete {key} from bucket {self.bucket}: {exc}") from exc

    def public_url(self, key: str) -> str:
        if self._public_base_url:
            return f"{self._public_base_url}/{key}"
        if self._endpoint.endswith(".s3.amazonaws.com"):
            return f"{self._endpoint}/{key}"
        return f"{self._endpoint}/{self.bucket}/{key}"

    def usage(self) -> StorageUsage:
        objects = total = 0
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    objects += 1
                    total += int(item["Size"])
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"Failed to list bucket {self.bucket}: {exc}") from exc
        return StorageUsage(objects=objects, bytes=total)
