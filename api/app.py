"""The HTTP API as a FastAPI app over the services: routes, the one error table, local media,
and the recovery loop and the Printful mockup queue running while the app serves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.errors import install_error_handlers
from api.limits import install_request_limits
from api.routes import account as account_routes
from api.routes import catalog as catalog_routes
from api.routes import generate as generate_routes
from api.routes import ops as ops_routes
from api.routes import publish as publish_routes
from api.webhook_metrics import WebhookResults
from core.backends import MEDIA_ROUTE
from core.jobs.recovery import recovery_loop
from core.ops.readiness import Readiness
from core.publishing.mockup_queue import mockup_queue_loop
from core.services import Services
from core.storage import LocalObjectStore


def create_api(services: Services, on_shutdown: Sequence[Callable[[], None]] = ()) -> FastAPI:
    """The API on `app.state.services`; `on_shutdown` runs after the services are closed."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # start-up pass (jobs a previous run left pending), then every interval
        loop = recovery_loop(services.recovery, services.settings.recovery_interval_s).start()
        mockups = mockup_queue_loop(services.mockup_queue).start() if services.mockup_queue else None
        yield
        if mockups is not None:
            mockups.stop()
        loop.stop()
        services.close()
        for close in on_shutdown:
            close()

    app = FastAPI(
        title="TenkaiGen",
        description="AI design generator for print-on-demand merch.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.readiness = Readiness(services.settings, services.generation.objects)
    install_error_handlers(app)
    app.include_router(generate_routes.router)
    app.include_router(account_routes.router)
    app.include_router(catalog_routes.router)
    app.include_router(ops_routes.router)
    app.include_router(publish_routes.router)
    install_request_limits(app, services.settings)
    app.add_middleware(WebhookResults, path=app.url_path_for("generation_webhook"))
    objects = services.generation.objects
    if isinstance(objects, LocalObjectStore) and not services.settings.storage_public_base_url:
        app.mount(MEDIA_ROUTE, StaticFiles(directory=objects.root), name="media")
    return app
