"""TenkaiGen's composition root: settings -> backends -> services -> FastAPI + Gradio.

`python app.py [--host H] [--port P]` serves the API and the studio;
`python app.py add-user NAME [--admin] [--password-stdin]` adds a local account.
Nothing else in the code base builds backends from settings.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from api.deps import AppServices
from api.errors import install_error_handlers
from api.routes import account as account_routes
from api.routes import catalog as catalog_routes
from api.routes import generate as generate_routes
from core.auth import (
    AccountStore,
    Authenticator,
    LocalAccountsAuth,
    OpenAccess,
    PostgresAccountStore,
    SqliteAccountStore,
    SupabaseAuth,
    SupabasePasswordLogin,
    SupabaseTokenVerifier,
)
from core.catalog import Catalog, load_catalog
from core.errors import InvalidRequest
from core.generators import DraftGenerator, Generator, ModalGenerator
from core.generators.modal import exponential_backoff
from core.jobs import JobStore
from core.jobs.migrations import apply_migrations
from core.jobs.postgres_store import PostgresJobStore, open_pool
from core.jobs.sqlite_store import SqliteJobStore
from core.parsing import LocalPromptParser, PromptParser
from core.quotas import QuotaLimits
from core.recovery import JobRecovery, RecoveryLoop, RecoveryPolicy
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
    accounts: AccountStore
    objects: ObjectStore
    parser: PromptParser
    generator: Generator
    catalog: Catalog
    webhook_secret: str

    def close(self) -> None:
        self.generator.close()
        self.accounts.close()
        self.jobs.close()


def build_stores(settings: Settings) -> tuple[JobStore, AccountStore]:
    """The jobs store and the local accounts, both in the jobs database."""
    if settings.database_url:
        apply_migrations(settings.database_url)
        pool = open_pool(settings.database_url, max_size=settings.database_pool_size, timeout_s=settings.http_timeout_s)
        return PostgresJobStore(pool), PostgresAccountStore(pool)
    return SqliteJobStore(settings.sqlite_path), SqliteAccountStore(settings.sqlite_path)


def build_authenticator(settings: Settings, accounts: AccountStore) -> Authenticator:
    """TENKAIGEN_AUTH, with `auto` resolved: Supabase if configured, else local accounts
    once one exists, else the open single-user mode (checked at start-up)."""
    mode = settings.auth_mode
    if mode == "auto":
        mode = "supabase" if settings.supabase_configured else "local" if accounts.count() else "none"
    if mode == "supabase":
        if not settings.supabase_configured:
            raise SystemExit("TENKAIGEN_AUTH=supabase needs SUPABASE_JWT_SECRET or SUPABASE_URL")
        verifier = SupabaseTokenVerifier(
            jwt_secret=settings.supabase_jwt_secret.get_secret_value() if settings.supabase_jwt_secret else None,
            supabase_url=settings.supabase_url,
            admin_users=settings.admin_user_ids,
            timeout_s=settings.http_timeout_s,
        )
        login = None
        if settings.supabase_url and settings.supabase_anon_key:
            login = SupabasePasswordLogin(
                settings.supabase_url, settings.supabase_anon_key.get_secret_value(), verifier, settings.http_timeout_s
            )
        return SupabaseAuth(verifier, login)
    if mode == "local":
        if not accounts.count():
            log.warning("TENKAIGEN_AUTH=local but no account exists: add one with `python app.py add-user NAME`")
        return LocalAccountsAuth(accounts)
    return OpenAccess(settings.local_user)


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
        return ModalGenerator(
            settings.modal_generate_endpoint,
            timeout_s=settings.http_timeout_s,
            max_attempts=settings.dispatch_attempts,
            backoff=exponential_backoff(settings.dispatch_backoff_s),
        )
    return DraftGenerator({s.id: s.palette for s in catalog.styles.values()})


def build_backends(settings: Settings) -> Backends:
    catalog = load_catalog()
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ensure_webhook_secret(settings.data_dir)
    jobs, accounts = build_stores(settings)
    return Backends(
        jobs=jobs,
        accounts=accounts,
        objects=build_object_store(settings),
        parser=LocalPromptParser(catalog),
        generator=build_generator(settings, catalog),
        catalog=catalog,
        webhook_secret=secret,
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
        quotas=QuotaLimits(settings.quota_per_minute, settings.quota_per_day, settings.quota_in_flight),
    )
    authenticator = build_authenticator(settings, backends.accounts)
    recovery = JobRecovery(
        service,
        backends.jobs,
        RecoveryPolicy(pending_grace_s=settings.pending_grace_s, processing_deadline_s=settings.job_deadline_s),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # start-up pass (jobs a previous run left pending), then every interval
        loop = RecoveryLoop(recovery, settings.recovery_interval_s).start()
        yield
        loop.stop()
        backends.close()

    app = FastAPI(
        title="TenkaiGen",
        description="AI design generator for print-on-demand merch.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = AppServices(
        generation=service,
        webhook_secret=backends.webhook_secret,
        local_user=settings.local_user,
        authenticator=authenticator,
    )
    app.state.recovery = recovery
    install_error_handlers(app)
    app.include_router(generate_routes.router)
    app.include_router(account_routes.router)
    app.include_router(catalog_routes.router)
    if isinstance(backends.objects, LocalObjectStore) and not settings.storage_public_base_url:
        app.mount(MEDIA_ROUTE, StaticFiles(directory=backends.objects.root), name="media")
    return mount_studio(app, service, authenticator, settings.local_user, generator_label(backends.generator))


def mount_studio(
    app: FastAPI, service: GenerationService, authenticator: Authenticator, local_user: str, label: str
) -> FastAPI:
    """The studio at /; behind Gradio's login form unless auth is off."""
    theme = gr.themes.Soft(primary_hue="pink")
    if not authenticator.requires_login:
        return gr.mount_gradio_app(app, create_ui(service, local_user, label), path="/", theme=theme)

    async def check_login(username: str, password: str) -> bool:
        return await run_in_threadpool(authenticator.login, username, password)

    def resolve_user(request: gr.Request) -> str:
        return authenticator.user_id_for(request.username or "")

    studio = create_ui(service, local_user, label, resolve_user=resolve_user)
    message = "Sign in with your TenkaiGen account" if authenticator.mode == "local" else "Sign in with your email and password"
    return gr.mount_gradio_app(app, studio, path="/", theme=theme, auth=check_login, auth_message=message)


def open_account_store(settings: Settings) -> AccountStore:
    if settings.database_url:
        apply_migrations(settings.database_url)
        pool = open_pool(settings.database_url, max_size=1, timeout_s=settings.http_timeout_s)
        return PostgresAccountStore(pool, owns_pool=True)
    return SqliteAccountStore(settings.sqlite_path)


def read_new_password(from_stdin: bool) -> str:
    """The new account's password: stdin's first line, TENKAIGEN_NEW_PASSWORD, or a prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if os.environ.get("TENKAIGEN_NEW_PASSWORD"):
        return os.environ["TENKAIGEN_NEW_PASSWORD"]
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise InvalidRequest("the passwords do not match")
    return password


def add_user(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="app.py add-user", description="Add a local TenkaiGen account.")
    parser.add_argument("name", help="account name; also the user id its jobs are stored under")
    parser.add_argument("--admin", action="store_true", help="may open the admin routes")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    args = parser.parse_args(argv)
    settings = Settings()
    accounts = open_account_store(settings)
    try:
        account = accounts.add(args.name, read_new_password(args.password_stdin), is_admin=args.admin)
    except InvalidRequest as exc:
        print(f"add-user: {exc}", file=sys.stderr)
        return 2
    finally:
        accounts.close()
    role = "admin" if account.is_admin else "user"
    print(f"account {account.name!r} added ({role}); restart the app for sign-in to switch on")
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", description="Run the TenkaiGen app (API + studio).")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["add-user"]:
        return add_user(argv[1:])
    args = parse_args(argv)
    settings = Settings()
    app = create_app(settings)
    log.info("serving on http://%s:%s", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
