"""Shared fixtures: real local backends, started once per session where they are servers."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import psycopg
import pytest
from moto.server import ThreadedMotoServer
from playwright.sync_api import Browser, sync_playwright

from core.catalog import Catalog, load_catalog
from core.jobs import JobStore
from core.jobs.migrations import apply_migrations
from core.jobs.postgres_store import PostgresJobStore, open_pool
from core.jobs.sqlite_store import SqliteJobStore
from core.storage import LocalObjectStore, S3ObjectStore, make_s3_client
from core.worker_contract.webhooks import generate_webhook_secret
from tests.support.postgres import PG_URL_VARIABLE, PostgresNotInstalled, ThrowawayPostgres, fresh_database
from tests.support.servers import free_port

S3_TEST_KEY = "testing"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def webhook_secret() -> str:
    return generate_webhook_secret()


# --- Postgres ---------------------------------------------------------------------------
PG_SERVER_KEY = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def pg_admin_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The Postgres server every test database is created on, as an admin URL.

    TENKAIGEN_TEST_PG_URL's server when set (fails, never skips, when it does not answer);
    otherwise a throwaway server this session starts (initdb, trust auth, no fsync, free
    loopback port) and stops at the end, so a developer's own cluster and its pg_hba.conf
    never matter.
    """
    external = os.environ.get(PG_URL_VARIABLE)
    if external:
        try:
            psycopg.connect(external, connect_timeout=5).close()
        except psycopg.OperationalError as exc:
            pytest.fail(f"Postgres is not reachable at {PG_URL_VARIABLE} ({where(external)}): {exc}")
        request.config.stash[PG_SERVER_KEY] = f"{PG_URL_VARIABLE}'s server, {where(external)}"
        yield external
        return
    try:
        server = ThrowawayPostgres().start()
    except PostgresNotInstalled as exc:
        pytest.fail(str(exc))
    request.config.stash[PG_SERVER_KEY] = (
        f"throwaway server {server.admin_url} ({server.bin_dir}, started in {server.startup_s:.1f} s)")
    try:
        yield server.admin_url
    finally:
        server.stop()


def where(url: str) -> str:
    """host:port/database, without the user's password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if PG_SERVER_KEY in config.stash:
        terminalreporter.write_line(f"postgres: {config.stash[PG_SERVER_KEY]}")


@pytest.fixture(scope="session")
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh database on the session's server, migrated with sql/, dropped at the end."""
    with fresh_database(pg_admin_url, "tenkaigen_test") as url:
        apply_migrations(url)
        yield url


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


# --- the browser: one headless chromium for the whole session (Playwright's sync API allows
# one at a time in a thread, so every browser test, under tests/ui or not, shares this one)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make services` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
