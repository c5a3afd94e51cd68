"""Operator commands run in process (`app.main([...])`) with settings from the environment,
exactly as an operator runs them; output captured with capsys."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest

import app
from core.settings import Settings
from tests.conftest import S3_TEST_KEY
from tests.support.postgres import fresh_database
from tests.support.servers import free_port, wait_until

SETTING_NAMES = [field.alias for field in Settings.model_fields.values() if field.alias]


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def line(self, name: str) -> str:
        """The doctor's line for check `name` (with its fix line when it failed)."""
        lines = self.out.splitlines()
        for i, text in enumerate(lines):
            if text[2:].startswith(name + " "):
                follow = lines[i + 1] if i + 1 < len(lines) and "fix:" in lines[i + 1] else ""
                return f"{text}\n{follow}".rstrip()
        raise AssertionError(f"no {name!r} line in:\n{self.out}")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment: no TenkaiGen variable inherited, no .env, its own data folder."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    monkeypatch.setenv("TENKAIGEN_DATA_DIR", str(data))
    return data


@pytest.fixture
def run_app(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run(*argv: str) -> Result:
        code = app.main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def use_s3(monkeypatch: pytest.MonkeyPatch, endpoint: str, bucket: str,
           key_id: str = S3_TEST_KEY, secret: str = S3_TEST_KEY) -> None:
    monkeypatch.setenv("B2_S3_ENDPOINT", endpoint)
    monkeypatch.setenv("B2_S3_REGION", "us-east-1")
    monkeypatch.setenv("B2_S3_BUCKET", bucket)
    monkeypatch.setenv("B2_S3_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("B2_S3_SECRET_ACCESS_KEY", secret)


@pytest.fixture
def empty_pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh Postgres database with no migration applied."""
    with fresh_database(pg_admin_url, "tenkaigen_ops") as url:
        yield url


# --- an S3 server that checks credentials ----------------------------------------------------
@dataclass(frozen=True)
class AuthS3:
    endpoint: str
    key_id: str
    secret: str
    bucket: str  # private: no public-read policy


BOOTSTRAP_REQUESTS = 3  # create user, create access key, put its policy; every later request is authenticated


@pytest.fixture(scope="session")
def auth_s3() -> Iterator[AuthS3]:
    """moto in its own process with IAM authentication on (INITIAL_NO_AUTH_ACTION_COUNT), so
    wrong credentials are refused as B2 refuses them. The session's shared S3 server accepts
    any key, and moto's auth setting is process-wide, hence a separate process."""
    port = free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(BOOTSTRAP_REQUESTS))
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _accepts(port), timeout_s=30, what="moto server with auth")
        endpoint = f"http://127.0.0.1:{port}"
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam.create_user(UserName="tenkaigen")
        key = iam.create_access_key(UserName="tenkaigen")["AccessKey"]
        iam.put_user_policy(UserName="tenkaigen", PolicyName="everything", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }))
        bucket = "tenkaigen-private"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                     ).create_bucket(Bucket=bucket)
        yield AuthS3(endpoint, key["AccessKeyId"], key["SecretAccessKey"], bucket)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True
