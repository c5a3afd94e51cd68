"""The one entry point: `python app.py` serves; `python app.py COMMAND` runs an operator command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import app
from cli.parser import parse_args
from core import backends
from core.settings import Settings

REPO = Path(app.__file__).resolve().parent
COMMAND_NAMES = ["doctor", "migrate", "lifecycle", "stats", "costs"]


def test_no_command_still_means_serve_with_host_and_port():
    args = parse_args(["--host", "0.0.0.0", "--port", "9000"])
    assert (args.command, args.host, args.port) == (None, "0.0.0.0", 9000)
    assert parse_args([]).command is None


def test_the_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        app.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(f"    {name}" in out for name in COMMAND_NAMES)


@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_every_command_has_help(capsys, name):
    with pytest.raises(SystemExit) as exit_info:
        app.main([name, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: app.py {name}" in capsys.readouterr().out


def test_the_server_and_the_commands_open_the_database_through_one_function(run_app, monkeypatch):
    opened: list[bool] = []
    real_open_database = backends.open_database

    def recording_open_database(settings: Settings, migrate: bool = True) -> backends.Database:
        opened.append(migrate)
        return real_open_database(settings, migrate)

    monkeypatch.setattr(backends, "open_database", recording_open_database)
    app.build_services(Settings()).close()
    assert run_app("stats").code == 0
    monkeypatch.setenv("TENKAIGEN_NEW_PASSWORD", "a-long-password")
    assert run_app("add-user", "ann").code == 0
    assert opened == [True, False, True]  # the server, stats (read-only: no migration), add-user


def test_marks_fall_back_to_ok_and_fail_on_an_ascii_terminal():
    from cli.render import marks_for

    class AsciiStream:
        encoding = "ascii"

    assert (marks_for(AsciiStream()).ok, marks_for(AsciiStream()).fail) == ("OK", "FAIL")  # type: ignore[arg-type]


@pytest.mark.slow
def test_doctor_runs_as_a_script_without_loading_the_web_stack(tmp_path: Path):
    """One real process: `python app.py doctor` on embedded defaults, in a folder without .env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENKAIGEN_", "B2_S3_", "MODAL_", "GEMINI_"))}
    env.pop("DATABASE_URL", None)
    env.update(TENKAIGEN_DATA_DIR=str(tmp_path / "data"), PYTHONIOENCODING="ascii")
    done = subprocess.run([sys.executable, str(REPO / "app.py"), "doctor"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].startswith("OK database")
    probe = subprocess.run([sys.executable, "-c", "import sys, app; print('gradio' in sys.modules, 'fastapi' in sys.modules)"],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert probe.stdout.split() == ["False", "False"], probe.stderr
