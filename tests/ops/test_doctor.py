"""`python app.py doctor`: one line per check, a fix for each failure, exit 1 when any fails."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from fastapi import FastAPI

from botocore.exceptions import EndpointConnectionError, NoCredentialsError

from core.errors import StorageError
from core.ops.doctor import storage_fix, address_scope, check_gemini, check_webhook_secret, check_webhook_url
from core.storage import S3ObjectStore
from core.worker_contract.webhooks import generate_webhook_secret
from tests.conftest import S3_TEST_KEY
from tests.ops.conftest import AuthS3, use_s3
from tests.support.apps import make_settings
from tests.support.fake_gemini import GOOD_KEY, fake_gemini_app
from tests.support.fake_worker import FakeWorker
from tests.support.servers import LiveServer

CHECKS = ["database", "storage write", "public URL", "storage delete", "webhook URL", "GPU worker",
          "webhook secret", "Gemini"]


# --- embedded defaults ------------------------------------------------------------------------
def test_embedded_defaults_pass_every_check(run_app):
    result = run_app("doctor")
    assert result.code == 0, result.out
    for name in CHECKS:
        assert result.line(name).startswith("✓")
    assert "SQLite file" in result.line("database")
    assert "will generate one" in result.line("webhook secret") and "single host" in result.line("webhook secret")
    assert "local parser" in result.line("Gemini")
    assert result.out.rstrip().endswith("all checks passed")


def test_a_data_folder_that_is_a_file_fails_database_and_storage(run_app, data_dir: Path, monkeypatch):
    blocker = data_dir.parent / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("TENKAIGEN_DATA_DIR", str(blocker / "data"))
    result = run_app("doctor")
    assert result.code == 1
    assert result.line("database").startswith("✗") and "TENKAIGEN_DATA_DIR" in result.line("database")
    assert result.line("storage").startswith("✗") and "TENKAIGEN_DATA_DIR" in result.line("storage")
    assert "checks failed" in result.out


# --- Postgres ---------------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.slow
def test_a_migrated_postgres_passes(run_app, monkeypatch, pg_url: str):
    monkeypatch.setenv("DATABASE_URL", pg_url)
    line = run_app("doctor").line("database")
    assert line.startswith("✓") and "migration(s) applied" in line


@pytest.mark.postgres
@pytest.mark.slow
def test_an_unmigrated_postgres_fails_and_names_the_migrate_command(run_app, monkeypatch, empty_pg_url: str):
    monkeypatch.setenv("DATABASE_URL", empty_pg_url)
    result = run_app("doctor")
    assert result.code == 1
    line = result.line("database")
    assert line.startswith("✗") and "015_create_generation_jobs_table.sql" in line
    assert "python app.py migrate" in line


@pytest.mark.postgres
def test_an_unreachable_postgres_fails_and_names_database_url(run_app, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://tenkaigen:s3cret@127.0.0.1:1/nowhere")
    result = run_app("doctor")
    line = result.line("database")
    assert result.code == 1 and line.startswith("✗") and "DATABASE_URL" in line
    assert "s3cret" not in result.out


# --- S3 ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_public_bucket_passes_write_read_anonymous_fetch_and_delete(run_app, monkeypatch, s3_endpoint, s3_bucket):
    use_s3(monkeypatch, s3_endpoint, s3_bucket)
    result = run_app("doctor")
    assert result.code == 0, result.out
    assert result.line("bucket").startswith("✓")
    assert result.line("storage write").startswith("✓")
    assert f"anonymous GET {s3_endpoint}/{s3_bucket}/ai-generated/_doctor/" in result.line("public URL")
    assert result.line("storage delete").startswith("✓")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id=S3_TEST_KEY, aws_secret_access_key=S3_TEST_KEY)
    assert client.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0  # the probe is gone


@pytest.mark.slow
def test_a_missing_bucket_fails_and_says_to_create_it(run_app, monkeypatch, s3_endpoint):
    use_s3(monkeypatch, s3_endpoint, "no-such-bucket-here")
    result = run_app("doctor")
    assert result.code == 1
    line = result.line("bucket")
    assert line.startswith("✗") and "NoSuchBucket" in line
    assert "create the bucket" in line and "B2_S3_BUCKET" in line
    assert "storage write" not in result.out  # nothing else is tried on a bucket that is not there


@pytest.mark.slow
def test_an_unknown_key_id_fails_and_names_the_key_setting(run_app, monkeypatch, auth_s3: AuthS3):
    use_s3(monkeypatch, auth_s3.endpoint, auth_s3.bucket, key_id="AKIAUNKNOWNKEY000000", secret=auth_s3.secret)
    result = run_app("doctor")
    line = result.line("bucket")
    assert result.code == 1 and line.startswith("✗") and "InvalidAccessKeyId" in line
    assert "B2_S3_ACCESS_KEY_ID" in line
    assert auth_s3.secret not in result.out


@pytest.mark.slow
def test_a_wrong_secret_fails_and_names_the_secret_setting(run_app, monkeypatch, auth_s3: AuthS3):
    use_s3(monkeypatch, auth_s3.endpoint, auth_s3.bucket, key_id=auth_s3.key_id, secret="not-the-secret")
    line = run_app("doctor").line("bucket")
    assert line.startswith("✗") and "SignatureDoesNotMatch" in line and "B2_S3_SECRET_ACCESS_KEY" in line


@pytest.mark.slow
def test_a_private_bucket_fails_the_public_url_check_with_the_way_to_make_it_public(run_app, monkeypatch, auth_s3: AuthS3):
    # the right credentials on the same server: only the anonymous fetch is refused
    use_s3(monkeypatch, auth_s3.endpoint, auth_s3.bucket, key_id=auth_s3.key_id, secret=auth_s3.secret)
    result = run_app("doctor")
    assert result.code == 1
    assert result.line("bucket").startswith("✓") and result.line("storage write").startswith("✓")
    line = result.line("public URL")
    assert line.startswith("✗") and "403" in line and "not public" in line
    assert "STORAGE_PUBLIC_BASE_URL" in line
    assert result.line("storage delete").startswith("✓")


def storage_error_from(cause: Exception) -> StorageError:
    try:
        raise StorageError("Failed to upload") from cause
    except StorageError as exc:
        return exc


@pytest.mark.parametrize(("cause", "setting"), [
    (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "B2_S3_ENDPOINT"),
    (NoCredentialsError(), "B2_S3_ACCESS_KEY_ID and B2_S3_SECRET_ACCESS_KEY"),
])
def test_connection_and_credential_errors_name_their_setting(cause, setting):
    store = S3ObjectStore(client=None, bucket="b", prefix="ai-generated/", endpoint="http://127.0.0.1:1")
    assert setting in storage_fix(store, storage_error_from(cause))
    assert setting in storage_fix(store, cause)


# --- webhook URL and worker -------------------------------------------------------------------
@pytest.mark.slow
def test_a_localhost_webhook_with_a_remote_worker_fails_with_the_fix(run_app, monkeypatch):
    # a worker on another machine of the network (nothing answers there: its check fails too,
    # within the short timeout) while the webhook points at this machine's loopback
    monkeypatch.setenv("MODAL_GENERATE_ENDPOINT", "http://10.255.255.1:9")
    monkeypatch.setenv("TENKAIGEN_HTTP_TIMEOUT_S", "0.5")
    result = run_app("doctor")
    assert result.code == 1
    line = result.line("webhook URL")
    assert line.startswith("✗") and "http://127.0.0.1:7860/api/generate/webhook" in line
    assert "TENKAIGEN_WEBHOOK_URL" in line and "tunnel" in line
    assert result.line("GPU worker").startswith("✗")


@pytest.mark.parametrize(("worker", "webhook", "ok"), [
    ("https://me--tenkaigen-worker.modal.run", "http://localhost:7860/api/generate/webhook", False),
    ("https://me--tenkaigen-worker.modal.run", "http://192.168.1.20:7860/api/generate/webhook", False),
    ("https://me--tenkaigen-worker.modal.run", "https://tenkaigen.example.com/api/generate/webhook", True),
    ("http://10.0.0.5:8000", "http://127.0.0.1:7860/api/generate/webhook", False),
    ("http://10.0.0.5:8000", "http://10.0.0.2:7860/api/generate/webhook", True),
    ("http://127.0.0.1:8000", "http://127.0.0.1:7860/api/generate/webhook", True),
    (None, "http://127.0.0.1:7860/api/generate/webhook", True),
])
def test_the_webhook_url_must_be_reachable_from_the_worker(tmp_path, worker, webhook, ok):
    settings = make_settings(tmp_path, MODAL_GENERATE_ENDPOINT=worker, TENKAIGEN_WEBHOOK_URL=webhook)
    result = check_webhook_url(settings)
    assert result.ok is ok, result.detail
    assert ok or "TENKAIGEN_WEBHOOK_URL" in (result.fix or "")


def test_address_scopes():
    assert [address_scope(h) for h in ("localhost", "127.0.0.2", "::1", "0.0.0.0")] == ["loopback"] * 4
    assert [address_scope(h) for h in ("10.1.2.3", "192.168.0.9", "worker", "box.local", "fd00::1")] == ["private"] * 5
    assert [address_scope(h) for h in ("8.8.8.8", "x.modal.run", "2606:4700::1111")] == ["public"] * 3


@pytest.mark.slow
def test_a_worker_that_answers_its_health_check_passes(run_app, monkeypatch, webhook_secret):
    with LiveServer(FakeWorker(secret=webhook_secret).app()) as worker:
        monkeypatch.setenv("MODAL_GENERATE_ENDPOINT", worker.url)
        result = run_app("doctor")
    assert result.code == 0, result.out
    assert f"GET {worker.url}/health answered 200" in result.line("GPU worker")
    assert "copy it into the worker" in result.line("webhook secret")


@pytest.mark.slow
def test_a_worker_without_a_health_route_fails_and_names_the_endpoint_setting(run_app, monkeypatch):
    with LiveServer(FastAPI()) as not_a_worker:
        monkeypatch.setenv("MODAL_GENERATE_ENDPOINT", not_a_worker.url + "/")
        result = run_app("doctor")
    line = result.line("GPU worker")
    assert result.code == 1 and line.startswith("✗") and "answered 404" in line
    assert "MODAL_GENERATE_ENDPOINT" in line


# --- secrets and keys -------------------------------------------------------------------------
@pytest.mark.parametrize("secret", ["changeme", "whsec_", "your_webhook_secret"])
def test_a_placeholder_webhook_secret_fails(tmp_path, secret):
    result = check_webhook_secret(make_settings(tmp_path, TENKAIGEN_WEBHOOK_SECRET=secret))
    assert not result.ok and "placeholder" in result.detail and "generate_webhook_secret" in (result.fix or "")


def test_a_webhook_secret_that_is_not_base64_fails(tmp_path):
    result = check_webhook_secret(make_settings(tmp_path, TENKAIGEN_WEBHOOK_SECRET="whsec_not*base64!"))
    assert not result.ok and "Standard Webhooks" in result.detail


def test_a_generated_webhook_secret_passes(tmp_path):
    assert check_webhook_secret(make_settings(tmp_path, TENKAIGEN_WEBHOOK_SECRET=generate_webhook_secret())).ok


def test_an_unset_webhook_secret_uses_the_generated_file(run_app, data_dir):
    data_dir.mkdir()
    (data_dir / "webhook_secret").write_text(generate_webhook_secret())
    line = run_app("doctor").line("webhook secret")
    assert line.startswith("✓") and "uses the one it generated" in line


@pytest.fixture(scope="module")
def gemini_url():
    with LiveServer(fake_gemini_app()) as server:
        yield server.url


@pytest.mark.slow
def test_a_working_gemini_key_passes(run_app, monkeypatch, gemini_url):
    monkeypatch.setenv("GEMINI_API_KEY", GOOD_KEY)
    monkeypatch.setenv("GEMINI_BASE_URL", gemini_url)
    result = run_app("doctor")
    assert result.code == 0, result.out
    assert "model models/gemini-2.5-flash available" in result.line("Gemini")
    assert GOOD_KEY not in result.out


@pytest.mark.slow
def test_a_refused_gemini_key_fails_and_says_where_to_get_one(tmp_path, gemini_url):
    result = check_gemini(make_settings(tmp_path, GEMINI_API_KEY="AIza-revoked", GEMINI_BASE_URL=gemini_url))
    assert not result.ok and "API key not valid" in result.detail
    assert "GEMINI_API_KEY" in (result.fix or "") and "aistudio.google.com" in (result.fix or "")


@pytest.mark.slow
def test_an_unknown_gemini_model_fails_and_names_the_model_setting(tmp_path, gemini_url):
    settings = make_settings(tmp_path, GEMINI_API_KEY=GOOD_KEY, GEMINI_BASE_URL=gemini_url, GEMINI_MODEL="gemini-0")
    result = check_gemini(settings)
    assert not result.ok and "gemini-0" in result.detail and "GEMINI_MODEL" in (result.fix or "")


def test_an_unreachable_gemini_fails_within_the_timeout(tmp_path):
    settings = make_settings(tmp_path, GEMINI_API_KEY=GOOD_KEY, GEMINI_BASE_URL="http://127.0.0.1:1")
    result = check_gemini(settings)
    assert not result.ok and "did not answer" in result.detail


def test_a_placeholder_gemini_key_fails_without_a_call(tmp_path):
    result = check_gemini(make_settings(tmp_path, GEMINI_API_KEY="your_gemini_api_key"))
    assert not result.ok and "placeholder" in result.detail


def test_a_gemini_key_without_google_genai_installed_says_so(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.genai", None)  # makes `from google import genai` fail
    result = check_gemini(make_settings(tmp_path, GEMINI_API_KEY=GOOD_KEY))
    assert not result.ok and "google-genai is not installed" in result.detail
    assert "tenkaigen[gemini]" in (result.fix or "")
