"""TenkaiGen's web app (API and studio) on Modal: the app `tenkaigen-web`, next to the GPU worker.

From the project's environment (`pip install -e '.[modal]'`, then `modal setup` once):

    modal secret create tenkaigen-web DATABASE_URL=... B2_S3_BUCKET=... TENKAIGEN_WEBHOOK_SECRET=... [more]
    modal deploy modal_web.py        # prints the URL: https://<workspace>--tenkaigen-web-web.modal.run

The secret `tenkaigen-web` holds the app's settings under the names of .env (docs/configuration.md):
the container has no disk that outlives it, so the jobs live in Postgres (DATABASE_URL), the
images in a bucket (B2_S3_*), and the webhook secret is the GPU worker's (TENKAIGEN_WEBHOOK_SECRET).
TENKAIGEN_PUBLIC_URL defaults to the URL Modal gives this function, so the worker's webhooks
come back here without another setting.

This module sits at the top of the repository, beside app.py, because it serves the whole app
(`app.create_app`); modal_app/ holds the GPU worker, which imports nothing of the app but the
worker contract.

One container, many requests: Gradio's queue keeps each browser session in the process that
served it, so every request must reach the same process. `max_containers=1` guarantees that;
`@modal.concurrent(max_inputs=MAX_INPUTS)` lets that one container hold MAX_INPUTS requests
at once (an open studio tab holds one event stream while a job runs, and API calls are short).
That is the ceiling of this deployment: past it requests wait in Modal's queue. Beyond one
process, run `python app.py --workers N` behind a sticky proxy (docs/deployment.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import modal

if TYPE_CHECKING:
    from fastapi import FastAPI

APP_NAME = "tenkaigen-web"
SECRET_NAME = "tenkaigen-web"
ROOT = Path(__file__).resolve().parent
MINUTES = 60
MAX_INPUTS = 500
PUBLIC_URL_VARIABLE = "TENKAIGEN_PUBLIC_URL"


def _source_file(path: Path) -> bool:
    """What the containers get of the packages: code and the catalog's JSON, no caches."""
    # called for folders too (a pruned folder is not walked): only files have a suffix
    return "__pycache__" in path.parts or (path.suffix != "" and path.suffix not in {".py", ".json"})


# --- the container image: pinned to the versions the test suite runs ------------------------
image = (
    modal.Image.debian_slim(python_version="3.11")
    .uv_pip_install(
        "fastapi==0.165.0",
        "uvicorn==0.54.0",
        "pydantic==2.14.4",
        "pydantic-settings==2.16.3",
        "gradio==6.31.0",
        "httpx==0.28.1",
        "pillow==12.3.0",
        "numpy==2.4.6",
        "boto3==1.44.8",
        "psycopg[binary]==3.3.9",
        "psycopg-pool==3.3.3",
        "standardwebhooks==1.1.0",
        "python-multipart==0.0.34",
        "pyjwt[crypto]==2.15.1",
        "google-genai==3.6.1",
        "prometheus-client==0.26.0",
    )
    .add_local_python_source("app", "modal_web", "core", "api", "ui", "cli", ignore=_source_file)
    # the migrations and named queries ship as the package core.sql (setup.py maps sql/ there)
    .add_local_dir(ROOT / "sql", "/root/core/sql")
)

app = modal.App(APP_NAME, image=image)
settings_secret = modal.Secret.from_name(
    SECRET_NAME, required_keys=["DATABASE_URL", "B2_S3_BUCKET", "TENKAIGEN_WEBHOOK_SECRET"])


def build_web_app(environ: Mapping[str, str] = os.environ, web_url: str | None = None) -> FastAPI:
    """The whole app (app.create_app) from the environment's settings; TENKAIGEN_PUBLIC_URL,
    when the environment has none, is `web_url` (the URL Modal serves this function at)."""
    from app import create_app
    from cli.log_format import configure_logging
    from core.settings import Settings

    settings = Settings()
    if not environ.get(PUBLIC_URL_VARIABLE) and web_url:
        settings = settings.model_copy(update={"public_url": web_url.rstrip("/")})
    configure_logging(settings.log_format)
    return create_app(settings)


# scaledown_window: a cold start (imports, the database pool, Gradio's assets) costs the first
# visitor several seconds; 15 idle minutes keeps a session's container. timeout: one request
# (an open event stream included) may last an hour.
@app.function(
    secrets=[settings_secret],
    max_containers=1,
    scaledown_window=15 * MINUTES,
    timeout=60 * MINUTES,
    cpu=2.0,
    memory=2048,
)
@modal.concurrent(max_inputs=MAX_INPUTS)
@modal.asgi_app()
def web():  # noqa: ANN201 (Modal inspects the returned ASGI app)
    return build_web_app(web_url=_own_url())


def _own_url() -> str | None:
    """The URL Modal serves `web` at, known inside its container once the app is deployed."""
    try:
        return web.get_web_url()
    except Exception:  # noqa: BLE001 (not hydrated: TENKAIGEN_PUBLIC_URL from the secret, or the default)
        return None
