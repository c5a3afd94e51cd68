"""Shared fixtures: real local backends, started once per session where they are servers."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import psycopg
import pytest
from moto.server import ThreadedMotoServer

from core.catalog import Catalog, load_catalog
from core.jobs import JobStore
from core.jobs.migrations import apply_migrations
from core.jobs.postgres_store import PostgresJobStore, open_pool
from core.jobs.sqlite_store import SqliteJobStore
from core.storage import LocalObjectStore, S3ObjectStore, make_s3_client
from core.worker_contract.webhooks import generate_webhook_secret
from tests.support.servers import free_port

PG_ADMIN_URL = os.environ.get("TENKAIGEN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
S3_TEST_KEY = "testing"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def webhook_secret() -> str:
    return generate_webhook_secret()


# --- Postgres ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database on the real server, migrated with sql/, dropped at the end.

    Fails (never skips) when the server is unreachable: `make test` starts it.
    """
    name = f"tenkaigen_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"Postgres is not reachable at {PG_ADMIN_URL} (run `make services`): {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    apply_migrations(url)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresJobStore]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("TRUNCATE generation_jobs")
    store = PostgresJobStore(open_pool(pg_url, max_size=4))
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteJobStore]:
    store = SqliteJobStore(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])])
def job_store(request: pytest.FixtureRequest) -> JobStore:
    """Each test using it runs once per database backend."""
    return request.getfixturevalue("sqlite_store" if request.param == "sqlite" else "pg_store")


# --- S3 (moto in server mode: a real HTTP server on loopback) -------------------------------
@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def public_read_policy(bucket: str) -> str:
    """What a B2 'allPublic' bucket (or an R2 public bucket) grants: anonymous reads."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/*"}],
    })


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """A fresh public-read bucket on the loopback S3 server."""
    name = f"tenkaigen-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id=S3_TEST_KEY, aws_secret_access_key=S3_TEST_KEY,
    )
    client.create_bucket(Bucket=name)
    client.put_bucket_policy(Bucket=name, Policy=public_read_policy(name))
    return name


@pytest.fixture
def s3_store(s3_endpoint: str, s3_bucket: str) -> S3ObjectStore:
    client = make_s3_client(s3_endpoint, "us-east-1", S3_TEST_KEY, S3_TEST_KEY, timeout_s=5)
    return S3ObjectStore(client, bucket=s3_bucket, prefix="ai-generated/", endpoint=s3_endpoint)


@pytest.fixture
def local_store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects", prefix="ai-generated/")


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.slow)])
def object_store(request: pytest.FixtureRequest):
    return request.getfixturevalue("local_store" if request.param == "local" else "s3_store")
