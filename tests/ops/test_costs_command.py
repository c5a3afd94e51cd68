"""`python app.py costs`: storage used, egress estimated from completed jobs, B2 vs R2 priced."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from core.jobs import JobStatus
from core.jobs.sqlite_store import SqliteJobStore
from core.storage import LocalObjectStore
from tests.conftest import S3_TEST_KEY
from tests.ops.conftest import use_s3
from tests.support.jobs import JobSeeder, Seed

QUARTER_MB = b"\0" * 250_000


def complete_jobs(data_dir: Path, count: int) -> None:
    store = SqliteJobStore(data_dir / "tenkaigen.sqlite3")
    seeder = JobSeeder(store, sqlite_path=data_dir / "tenkaigen.sqlite3")
    for minute in range(count):
        seeder.add(Seed(JobStatus.COMPLETED, day=1, ms=1000, minute=minute))
    seeder.add(Seed(JobStatus.FAILED, day=1))  # no image, no write
    store.close()


@pytest.fixture
def four_objects_in_s3(monkeypatch, s3_endpoint, s3_bucket) -> str:
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id=S3_TEST_KEY, aws_secret_access_key=S3_TEST_KEY)
    for i in range(4):
        client.put_object(Bucket=s3_bucket, Key=f"ai-generated/alice/job-{i}.png", Body=QUARTER_MB)
    client.put_object(Bucket=s3_bucket, Key="elsewhere/big.bin", Body=QUARTER_MB * 8)  # outside the prefix
    use_s3(monkeypatch, s3_endpoint, s3_bucket)
    return s3_bucket


@pytest.mark.slow
def test_costs_price_the_bucket_prefix_on_b2_and_r2(run_app, data_dir, four_objects_in_s3):
    complete_jobs(data_dir, 2)
    result = run_app("costs")
    assert result.code == 0, result.err
    out = result.out
    assert f"Stored under ai-generated/ in bucket {four_objects_in_s3!r}: 4 objects, 0.001 GB" in out
    assert "Last 30 days: 2 images completed → 2 writes" in out
    assert "Egress estimate: 0.001 GB/month = 2 images × 0.25 MB average × 1 view(s) each" in out
    # B2: 0.001 GB x $0.005; egress 0.0005 GB inside the free 0.003 GB
    assert "Backblaze B2   $0.000005/month" in out
    # R2: 0.001 GB x $0.015 + 2 writes x $4.50 / 1M
    assert "Cloudflare R2  $0.000024/month" in out
    assert "Cheaper at this usage: Backblaze B2" in out


@pytest.mark.slow
def test_many_views_per_image_make_r2_cheaper(run_app, data_dir, four_objects_in_s3):
    complete_jobs(data_dir, 2)
    result = run_app("costs", "--views-per-image", "100000")
    assert "Egress estimate: 50.000 GB/month" in result.out
    assert "Cheaper at this usage: Cloudflare R2" in result.out


def test_costs_on_local_storage_say_what_a_bucket_would_cost(run_app, data_dir):
    objects = LocalObjectStore(data_dir / "objects", prefix="ai-generated/")
    objects.put_png("ai-generated/local/job-1.png", QUARTER_MB)
    complete_jobs(data_dir, 1)
    result = run_app("costs")
    assert result.code == 0, result.err
    assert "in the local folder (what it would cost in a bucket): 1 object," in result.out
    assert "Cheaper at this usage: Backblaze B2" in result.out


def test_views_per_image_cannot_be_negative(run_app):
    with pytest.raises(SystemExit) as exit_info:
        run_app("costs", "--views-per-image", "-1")
    assert exit_info.value.code == 2
