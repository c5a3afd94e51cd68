"""Both object stores keep the seed's layout and hand out URLs that serve the bytes."""

from __future__ import annotations

import httpx
import pytest

from core.errors import StorageError
from core.storage import LocalObjectStore, S3ObjectStore, image_key, make_s3_client
from tests.conftest import S3_TEST_KEY
from tests.support.fake_worker import solid_png


def test_keys_follow_the_seed_layout():
    assert image_key("ai-generated/", "user-1", "job-9") == "ai-generated/user-1/job-9.png"
    assert image_key("ai-generated/", "user-1", "job-9", "_print") == "ai-generated/user-1/job-9_print.png"


@pytest.mark.parametrize(
    ("user_id", "job_id"),
    [("../x", "job-1"), ("..", "job-1"), (".", "job-1"), ("a/b", "job-1"), ("", "job-1"), ("a..b", "job-1"),
     ("alice", "../job"), ("alice", "job/1"), ("alice\n", "job-1"), ("ali ce", "job-1")],
)
def test_keys_are_made_only_from_plain_ids(user_id, job_id):
    with pytest.raises(StorageError, match="cannot be part of an object key"):
        image_key("ai-generated/", user_id, job_id)


def test_keys_take_the_ids_accounts_and_supabase_make():
    assert image_key("p/", "ana.b_c@example.com", "job-1") == "p/ana.b_c@example.com/job-1.png"
    assert image_key("p/", "7d5c0c6e-0000-4000-8000-000000000001", "job-1", "_print").endswith("/job-1_print.png")


def test_a_stored_png_reads_back_identically(object_store):
    png = solid_png(32, 16)
    key = image_key(object_store.prefix, "alice", "job-1")
    assert not object_store.exists(key)
    object_store.put_png(key, png)
    assert object_store.exists(key)
    assert object_store.get(key) == png


def test_storing_twice_under_one_key_keeps_one_object(object_store):
    key = image_key(object_store.prefix, "alice", "job-1")
    object_store.put_png(key, solid_png(8, 8))
    object_store.put_png(key, solid_png(8, 8))
    usage = object_store.usage()
    assert usage.objects == 1 and usage.bytes == len(solid_png(8, 8))


def test_deleting_removes_the_object_and_deleting_again_is_not_an_error(object_store):
    key = image_key(object_store.prefix, "alice", "job-1")
    object_store.put_png(key, solid_png(8, 8))
    object_store.delete(key)
    assert not object_store.exists(key)
    object_store.delete(key)


def test_reading_a_missing_object_is_a_storage_error(object_store):
    with pytest.raises(StorageError):
        object_store.get(image_key(object_store.prefix, "alice", "missing"))


def test_local_urls_are_served_under_media(local_store: LocalObjectStore):
    assert local_store.public_url("ai-generated/a/b.png") == "/media/ai-generated/a/b.png"


def test_local_keys_cannot_escape_the_storage_folder(local_store: LocalObjectStore):
    with pytest.raises(StorageError):
        local_store.put_png("../../etc/evil.png", b"x")


@pytest.mark.slow
def test_s3_objects_are_png_typed_and_fetchable_at_the_public_url(s3_store: S3ObjectStore, s3_endpoint: str, s3_bucket: str):
    png = solid_png(10, 10)
    key = image_key(s3_store.prefix, "alice", "job-2")
    s3_store.put_png(key, png)
    url = s3_store.public_url(key)
    assert url == f"{s3_endpoint}/{s3_bucket}/ai-generated/alice/job-2.png"
    response = httpx.get(url, timeout=5)
    assert response.status_code == 200
    assert response.content == png
    assert response.headers["content-type"] == "image/png"


def test_a_public_base_url_overrides_the_endpoint_url():
    store = S3ObjectStore(client=None, bucket="b", prefix="p/", endpoint="https://s3.example", public_base_url="https://cdn.example/")
    assert store.public_url("p/u/j.png") == "https://cdn.example/p/u/j.png"


@pytest.mark.slow
def test_a_missing_bucket_is_a_storage_error_naming_the_bucket(s3_endpoint: str):
    client = make_s3_client(s3_endpoint, "us-east-1", S3_TEST_KEY, S3_TEST_KEY, timeout_s=5)
    store = S3ObjectStore(client, bucket="no-such-bucket", prefix="ai-generated/", endpoint=s3_endpoint)
    with pytest.raises(StorageError, match="no-such-bucket"):
        store.put_png("ai-generated/a/b.png", solid_png(4, 4))


def test_head_tells_the_size_type_and_the_first_bytes_asked_for_in_one_call(object_store):
    data = bytes(range(256)) * 40
    object_store.put_png("ai-generated/u/h.png", data)
    info = object_store.head("ai-generated/u/h.png", first_bytes=33)
    assert (info.bytes, info.content_type, info.first_bytes) == (len(data), "image/png", data[:33])
    whole = object_store.head("ai-generated/u/h.png", first_bytes=len(data) + 100)
    assert (whole.bytes, whole.first_bytes) == (len(data), data)
    assert object_store.head("ai-generated/u/h.png").first_bytes == b""
    assert object_store.head("ai-generated/u/missing.png", first_bytes=33) is None


def test_head_of_an_empty_object_with_first_bytes_is_its_size_zero(object_store):
    object_store.put_png("ai-generated/u/empty.png", b"")
    info = object_store.head("ai-generated/u/empty.png", first_bytes=33)
    assert (info.bytes, info.first_bytes) == (0, b"")
