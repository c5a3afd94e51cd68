"""TenkaiGen's composition root: settings -> backends -> services -> FastAPI + Gradio.

`python app.py [--host H] [--port P]` serves the API and the studio. Nothing else in the
code base builds backends from settings.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.deps import AppServices
from api.errors import install_error_handlers
from api.routes import catalog as catalog_routes
from api.routes import generate as generate_routes
from core.catalog import Catalog, load_catalog
from core.catalog.refresh import refresh_print_files
from core.generators import DraftGenerator, Generator, ModalGenerator
from core.jobs import JobStore
from core.jobs.migrations import apply_migrations
from core.jobs.postgres_store import PostgresJobStore, open_pool
from core.jobs.sqlite_store import SqliteJobStore
from core.parsing import LocalPromptParser, PromptParser
from core.parsing.cache import BriefCache
from core.parsing.gemini import GeminiPromptParser
from core.policy import PromptPolicy, load_policy
from core.printful import PrintfulClient
from core.service import GenerationService, ServiceLimits
from core.settings import Settings
from core.storage import LocalObjectStore, ObjectStore, S3ObjectStore, make_s3_client
from core.webhooks import ensure_webhook_secret
from ui.studio import create_ui

log = logging.getLogger("tenkaigen")

MEDIA_ROUTE = "/media"


@dataclass
class Backends:
    jobs: JobStore
    objects: ObjectStore
    parser: PromptParser
    generator: Generator
    catalog: Catalog
    webhook_secret: str
    policy: PromptPolicy

    def close(self) -> None:
        self.generator.close()
        self.jobs.close()


def build_job_store(settings: Settings) -> JobStore:
    if settings.database_url:
        apply_migrations(settings.database_url)
        pool = open_pool(settings.database_url, max_size=settings.database_pool_size, timeout_s=settings.http_timeout_s)
        return PostgresJobStore(pool)
    return SqliteJobStore(settings.sqlite_path)


def build_object_store(settings: Settings) -> ObjectStore:
    if settings.uses_s3:
        client = make_s3_client(
            settings.b2_s3_endpoint,
            settings.b2_s3_region,
            settings.b2_s3_access_key_id,
            settings.b2_s3_secret_access_key.get_secret_value() if settings.b2_s3_secret_access_key else None,
            timeout_s=settings.http_timeout_s,
        )
        return S3ObjectStore(
            client,
            bucket=settings.b2_s3_bucket or "",
            prefix=settings.b2_s3_prefix,
            endpoint=settings.b2_s3_endpoint,
            public_base_url=settings.storage_public_base_url,
        )
    return LocalObjectStore(
        settings.data_dir / "objects",
        prefix=settings.b2_s3_prefix,
        public_base_url=settings.storage_public_base_url or MEDIA_ROUTE,
    )


def build_generator(settings: Settings, catalog: Catalog) -> Generator:
    if settings.modal_generate_endpoint:
        return ModalGenerator(settings.modal_generate_endpoint, timeout_s=settings.http_timeout_s)
    return DraftGenerator({s.id: s.palette for s in catalog.styles.values()})


def build_catalog(settings: Settings) -> Catalog:
    """The bundled styles and products; with PRINTFUL_API_TOKEN, print areas read from Printful."""
    catalog = load_catalog()
    if not settings.printful_api_token:
        return catalog
    with build_printful_client(settings) as client:
        return refresh_print_files(catalog, client, within_s=2 * settings.http_timeout_s)


def build_printful_client(settings: Settings) -> PrintfulClient:
    token = settings.printful_api_token.get_secret_value() if settings.printful_api_token else ""
    return PrintfulClient(
        token, settings.printful_base_url, timeout_s=settings.http_timeout_s, store_id=settings.printful_store_id
    )


def build_parser(settings: Settings, catalog: Catalog) -> PromptParser:
    """Gemini when GEMINI_API_KEY is set (the local parser stands in when it fails), else local."""
    local = LocalPromptParser(catalog)
    if not settings.gemini_api_key:
        return local
    return GeminiPromptParser(
        catalog,
        api_key=settings.gemini_api_key.get_secret_value(),
        model=settings.gemini_model,
        base_url=settings.gemini_base_url,
        timeout_s=settings.gemini_timeout_s,
        thinking_budget=settings.gemini_thinking_budget,
        cache=BriefCache(ttl_s=settings.gemini_cache_ttl_s),
        fallback=local,
    )


def build_backends(settings: Settings) -> Backends:
    catalog = build_catalog(settings)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ensure_webhook_secret(settings.data_dir)
    return Backends(
        jobs=build_job_store(settings),
        objects=build_object_store(settings),
        parser=build_parser(settings, catalog),
        generator=build_generator(settings, catalog),
        catalog=catalog,
        webhook_secret=secret,
        policy=load_policy(settings.policy_file),
    )


def generator_label(generator: Generator) -> str:
    if isinstance(generator, DraftGenerator):
        return "offline draft renderer (no GPU configured)"
    return f"{generator.model_name} on the GPU worker"


def create_app(settings: Settings, backends: Backends | None = None) -> FastAPI:
    """The whole app: API routes, local media, and the studio mounted at /."""
    backends = backends or build_backends(settings)
    service = GenerationService(
        jobs=backends.jobs,
        objects=backends.objects,
        parser=backends.parser,
        generator=backends.generator,
        catalog=backends.catalog,
        webhook_url=settings.effective_webhook_url,
        limits=ServiceLimits(max_prompt_chars=settings.max_prompt_chars, steps=settings.generation_steps),
        policy=backends.policy,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        backends.close()

    app = FastAPI(
        title="TenkaiGen",
        description="AI design generator for print-on-demand merch.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = AppServices(
        generation=service, webhook_secret=backends.webhook_secret, local_user=settings.local_user
    )
    install_error_handlers(app)
    app.include_router(generate_routes.router)
    app.include_router(catalog_routes.router)
    if isinstance(backends.objects, LocalObjectStore) and not settings.storage_public_base_url:
        app.mount(MEDIA_ROUTE, StaticFiles(directory=backends.objects.root), name="media")
    studio = create_ui(service, settings.local_user, generator_label(backends.generator))
    return gr.mount_gradio_app(app, studio, path="/", theme=gr.themes.Soft(primary_hue="pink"))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", description="Run the TenkaiGen app (API + studio).")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = parse_args(argv)
    settings = Settings()
    app = create_app(settings)
    log.info("serving on http://%s:%s", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
