"""modal_web.py, the web app's Modal deployment: it imports and builds the app without Modal
credentials (Modal's App, Image and Secret objects are lazy until `modal deploy`)."""

from __future__ import annotations

import warnings
from pathlib import Path

import modal
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import modal_web


def test_the_web_function_is_registered_as_one_concurrent_asgi_container():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        functions = modal_web.app.registered_functions
    assert set(functions) == {"web"}
    assert isinstance(modal_web.web, modal.Function) and modal_web.web._is_web_endpoint()
    assert modal_web.app.name == "tenkaigen-web" and modal_web.MAX_INPUTS >= 100


def test_the_factory_builds_the_whole_app_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("TENKAIGEN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TENKAIGEN_PUBLIC_URL", raising=False)
    web_app = modal_web.build_web_app(web_url="https://me--tenkaigen-web-web.modal.run/")
    assert isinstance(web_app, FastAPI)
    services = web_app.state.services
    assert services.settings.effective_webhook_url == "https://me--tenkaigen-web-web.modal.run/api/generate/webhook"
    assert TestClient(web_app).get("/api/health").json()["status"] == "ok"  # no lifespan: nothing starts
    services.close()


def test_a_public_url_in_the_secret_wins_over_modals(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TENKAIGEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TENKAIGEN_PUBLIC_URL", "https://studio.example.com")
    web_app = modal_web.build_web_app(web_url="https://me--tenkaigen-web-web.modal.run")
    assert web_app.state.services.settings.public_url == "https://studio.example.com"
    web_app.state.services.close()


@pytest.mark.parametrize(("path", "shipped"), [
    ("core/catalog/styles.json", True),
    ("core/jobs/service.py", True),
    ("core/catalog", True),  # a folder: walked, not pruned
    ("core/__pycache__/service.cpython-311.pyc", False),
    ("ui/notes.md", False),
])
def test_the_container_gets_the_code_and_the_catalog(path, shipped):
    assert modal_web._source_file(Path(path)) is not shipped
