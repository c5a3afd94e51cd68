"""The studio mounted at / of the web app, behind Gradio's login form unless auth is off."""

from __future__ import annotations

import gradio as gr
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from core.services import Services
from ui.context import StudioContext
from ui.files import StudioFiles
from ui.studio import create_ui
from ui.theme import studio_css, studio_head, studio_theme


def mount_studio(app: FastAPI, services: Services, files: StudioFiles) -> FastAPI:
    authenticator = services.authenticator
    studio = create_ui(StudioContext.from_services(services, files))
    options = {"path": "/", "theme": studio_theme(), "css": studio_css(services.catalog),
               "head": studio_head(), "max_file_size": services.settings.max_upload_bytes}
    if not authenticator.requires_login:
        return gr.mount_gradio_app(app, studio, **options)

    async def check_login(username: str, password: str) -> bool:
        return await run_in_threadpool(authenticator.login, username, password)

    message = "Sign in with your TenkaiGen account" if authenticator.mode == "local" else "Sign in with your email and password"
    return gr.mount_gradio_app(app, studio, auth=check_login, auth_message=message, **options)
