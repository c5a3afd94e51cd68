"""`python -m modal_app.serve`: the self-hosted worker, same app, secret from the environment."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from core.worker_contract.webhooks import generate_webhook_secret
from modal_app.serve import build_app, engine_config, parse_args
from tests.support.servers import LiveServer, wait_until


def test_arguments_become_the_engine_config(tmp_path):
    args = parse_args(["--model", str(tmp_path), "--lightning", "4", "--nunchaku", "--cache-dir", str(tmp_path),
                       "--min-side", "64", "--port", "9000"])
    config = engine_config(args)
    assert (config.model, config.lightning, config.nunchaku, config.cache_dir, config.min_side) == (
        str(tmp_path), 4, True, tmp_path, 64)
    assert config.allow_download is False and args.port == 9000


def test_lightning_accepts_only_8_or_4_steps():
    with pytest.raises(SystemExit):
        parse_args(["--lightning", "6"])


@pytest.mark.parametrize("environ", [{}, {"TENKAIGEN_WEBHOOK_SECRET": "changeme"}])
def test_the_worker_does_not_start_without_a_real_secret(environ):
    with pytest.raises(SystemExit, match="TENKAIGEN_WEBHOOK_SECRET"):
        build_app(parse_args([]), environ)


def test_the_module_runs_as_a_command():
    result = subprocess.run([sys.executable, "-m", "modal_app.serve", "--help"], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0 and "--lightning {8,4}" in result.stdout


@pytest.mark.slow
def test_the_served_worker_loads_the_model_and_reports_it_on_health(tiny_model_dir):
    args = parse_args(["--model", str(tiny_model_dir), "--min-side", "64"])
    app = build_app(args, {"TENKAIGEN_WEBHOOK_SECRET": generate_webhook_secret()})
    with LiveServer(app) as server:
        health = wait_until(lambda: (h := httpx.get(f"{server.url}/health", timeout=5).json())["model_loaded"] and h,
                            what="the model to load")
    assert health["status"] == "ok" and health["queue_depth"] == 0
    assert health["engine"]["model_revision"] == f"local:{tiny_model_dir.resolve()}"
