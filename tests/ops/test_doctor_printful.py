"""doctor's Printful check: one cheap authenticated call (GET /stores), the fix for a refused
token, and whether Printful could fetch print files from where they are stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.backends import object_store_from_settings
from core.ops.doctor import check_printful
from tests.support.apps import make_settings, s3_settings
from tests.support.printful_stub import PrintfulStub
from tests.support.servers import LiveServer

TOKEN = "pf-doctor-token"


@pytest.fixture(scope="module")
def printful() -> Iterator[tuple[PrintfulStub, str]]:
    stub = PrintfulStub(token=TOKEN, store_id="4242", complete_after_polls=1)
    with LiveServer(stub.app()) as server:
        yield stub, server.url


def check(tmp_path: Path, url: str, **values: object):
    settings = make_settings(tmp_path, PRINTFUL_BASE_URL=url, **values)
    with httpx.Client(timeout=5) as http:
        return check_printful(settings, http, lambda: object_store_from_settings(settings))


def test_no_token_passes_and_says_what_is_off(tmp_path):
    result = check(tmp_path, "http://127.0.0.1:1")
    assert result.ok and "no official mockups or publishing" in result.detail


def test_a_working_token_with_a_public_bucket_passes_and_names_the_store(tmp_path, printful, s3_endpoint, s3_bucket):
    stub, url = printful
    result = check(tmp_path, url, PRINTFUL_API_TOKEN=TOKEN, PRINTFUL_STORE_ID="4242", **s3_settings(s3_endpoint, s3_bucket))
    assert result.ok, result
    assert "token accepted" in result.detail and "Stub store" in result.detail
    assert stub.requests[-1]["path"] == "/stores" and stub.requests[-1]["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in result.detail


def test_a_refused_token_fails_and_says_where_to_make_one(tmp_path, printful):
    _, url = printful
    result = check(tmp_path, url, PRINTFUL_API_TOKEN="pf-revoked", PRINTFUL_STORE_ID="4242")
    assert not result.ok and "refused the token (401" in result.detail
    assert "PRINTFUL_API_TOKEN" in (result.fix or "") and "pf-revoked" not in result.detail


def test_an_account_token_without_a_store_id_fails_and_names_the_setting(tmp_path, printful):
    _, url = printful
    result = check(tmp_path, url, PRINTFUL_API_TOKEN=TOKEN)
    assert not result.ok and "400" in result.detail and "PRINTFUL_STORE_ID" in (result.fix or "")


def test_local_storage_fails_because_printful_cannot_fetch_print_files(tmp_path, printful):
    _, url = printful
    result = check(tmp_path, url, PRINTFUL_API_TOKEN=TOKEN, PRINTFUL_STORE_ID="4242")
    assert not result.ok and "cannot fetch them" in result.detail
    assert "STORAGE_PUBLIC_BASE_URL" in (result.fix or "")


def test_an_unreachable_printful_fails_within_the_timeout(tmp_path):
    result = check(tmp_path, "http://127.0.0.1:1", PRINTFUL_API_TOKEN=TOKEN)
    assert not result.ok and "failed" in result.detail and "PRINTFUL_BASE_URL" in (result.fix or "")
