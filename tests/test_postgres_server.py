"""The suite's Postgres: TENKAIGEN_TEST_PG_URL's server, else a throwaway one the session starts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

from tests.support import postgres
from tests.support.postgres import PG_URL_VARIABLE, ThrowawayPostgres


def server_facts(url: str) -> dict[str, str]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in ("data_directory", "port", "fsync")}


@pytest.mark.postgres
@pytest.mark.slow
def test_without_a_named_server_the_session_uses_a_throwaway_one_for_every_database(pg_admin_url: str, pg_url: str):
    named = os.environ.get(PG_URL_VARIABLE)
    facts = server_facts(pg_admin_url)
    assert urlparse(pg_url).port == urlparse(pg_admin_url).port  # test databases live on the session's server
    if named:
        assert pg_admin_url == named
    else:
        data_dir = Path(facts["data_directory"])
        assert data_dir.parent.name.startswith("tenkaigen-pg-")
        assert data_dir.parent.parent == Path(tempfile.gettempdir())
        assert int(facts["port"]) == urlparse(pg_admin_url).port != 5432
        assert facts["fsync"] == "off"


@pytest.mark.postgres
@pytest.mark.slow
def test_a_stopped_throwaway_server_leaves_no_folder_and_no_listener():
    server = ThrowawayPostgres().start()
    url, root = server.admin_url, server.data_dir.parent
    try:
        assert server_facts(url)["data_directory"] == str(server.data_dir)
    finally:
        server.stop()
    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)


def test_without_postgres_binaries_the_error_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres, "DEBIAN_BIN_GLOB", str(tmp_path / "postgresql" / "*" / "bin"))
    with pytest.raises(postgres.PostgresNotInstalled, match="make services"):
        postgres.find_postgres_bin()
