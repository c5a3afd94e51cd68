"""`python app.py add-user NAME [--admin]`: the password from stdin, the env or a prompt."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

import app
from core.auth import SqliteAccountStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TENKAIGEN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return tmp_path


def accounts(data_dir: Path) -> SqliteAccountStore:
    return SqliteAccountStore(data_dir / "tenkaigen.sqlite3")


def test_add_user_reads_the_password_from_stdin(data_dir, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    assert app.main(["add-user", "alice", "--admin", "--password-stdin"]) == 0
    assert "account 'alice' added (admin)" in capsys.readouterr().out
    store = accounts(data_dir)
    assert store.authenticate("alice", "a-long-password").is_admin
    store.close()


def test_add_user_takes_the_password_from_the_environment_and_refuses_a_taken_name(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("TENKAIGEN_NEW_PASSWORD", "env-password-1")
    assert app.main(["add-user", "bob"]) == 0
    assert app.main(["add-user", "bob"]) == 2
    assert "already exists" in capsys.readouterr().err
    store = accounts(data_dir)
    assert store.authenticate("bob", "env-password-1").is_admin is False
    store.close()


@pytest.mark.slow
def test_add_user_runs_as_a_command(data_dir):
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "add-user", "carol", "--password-stdin"],
        input="short\n", capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2 and "at least 8 characters" in done.stderr
