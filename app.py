"""TenkaiGen's composition root: settings -> backends -> services -> FastAPI + Gradio.

`python app.py [--host H] [--port P]` serves the API and the studio. `python app.py COMMAND`
runs an operator command instead (doctor, migrate, lifecycle, stats, costs, add-user; each
has --help): their logic lives in core/, their text in cli/. Nothing else in the code base
builds backends from settings. The web stack (FastAPI, Gradio, the studio) is imported only
when serving, so commands start fast.
"""

from __future__ import annotations

import argparse
import getpass
import io
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg
from psycopg_pool import ConnectionPool
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from cli.render import (
    marks_for,
    render_costs,
    render_doctor,
    render_lifecycle_change,
    render_migrate,
    render_rules,
    render_stats,
)
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
from core.auth.throttle import LoginThrottle, ThrottlePolicy
from core.catalog import Catalog, load_catalog
from core.catalog.refresh import refresh_print_files
from core.ops.costs import estimate_monthly_costs
from core.ops.dashboard import DashboardService
from core.errors import InvalidRequest, StorageError
from core.generators import DraftGenerator, Generator, RemoteWorkerDispatcher
from core.generators.local_diffusers import LocalDiffusersGenerator
from core.generators.remote_worker import exponential_backoff
from core.jobs import JobStore
from core.jobs.migrations import apply_migrations, migration_names
from core.jobs.postgres_store import PostgresJobStore, open_pool
from core.jobs.sqlite_store import SqliteJobStore
from core.ops.doctor import describe_database, run_doctor
from core.ops.lifecycle import current_rules, is_b2_endpoint, set_expiry, summarize
from core.parsing import LocalPromptParser, PromptParser
from core.parsing.cache import BriefCache
from core.parsing.gemini import GeminiPromptParser
from core.catalog.policy import PromptPolicy, load_policy
from core.catalog.printful import PrintfulClient
from core.jobs.quotas import QuotaLimits
from core.settings import Settings
from core.ops.stats import DEFAULT_WINDOW_DAYS, window_start
from core.storage import LocalObjectStore, ObjectStore, S3ObjectStore, make_s3_client
from core.worker_contract.webhooks import ensure_webhook_secret

if TYPE_CHECKING:
    from fastapi import FastAPI

    from core.jobs.service import GenerationService
    from ui.files import StudioFiles

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
    policy: PromptPolicy

    def close(self) -> None:
        self.generator.close()
        self.accounts.close()
        self.jobs.close()


def open_database_pool(settings: Settings, migrate: bool) -> ConnectionPool:
    """The Postgres pool; pending migrations are applied first unless `migrate` is False
    (read-only commands leave the schema to `python app.py migrate`)."""
    assert settings.database_url
    if migrate:
        apply_migrations(settings.database_url, connect_timeout_s=settings.http_timeout_s)
    return open_pool(settings.database_url, max_size=settings.database_pool_size, timeout_s=settings.http_timeout_s)


def build_job_store(settings: Settings, migrate: bool = True) -> JobStore:
    if settings.database_url:
        return PostgresJobStore(open_database_pool(settings, migrate))
    return SqliteJobStore(settings.sqlite_path)


def build_stores(settings: Settings) -> tuple[JobStore, AccountStore]:
    """The jobs store and the local accounts, both in the jobs database (one pool on Postgres)."""
    if settings.database_url:
        pool = open_database_pool(settings, migrate=True)
        return PostgresJobStore(pool), PostgresAccountStore(pool)
    return SqliteJobStore(settings.sqlite_path), SqliteAccountStore(settings.sqlite_path)


def open_account_store(settings: Settings) -> AccountStore:
    if settings.database_url:
        apply_migrations(settings.database_url, connect_timeout_s=settings.http_timeout_s)
        pool = open_pool(settings.database_url, max_size=1, timeout_s=settings.http_timeout_s)
        return PostgresAccountStore(pool, owns_pool=True)
    return SqliteAccountStore(settings.sqlite_path)


def build_authenticator(settings: Settings, accounts: AccountStore) -> Authenticator:
    """TENKAIGEN_AUTH, with `auto` resolved: Supabase if configured, else local accounts
    once one exists, else the open single-user mode (checked at start-up)."""
    mode = settings.auth_mode
    throttle = LoginThrottle(accounts.login_failures(), ThrottlePolicy.from_settings(settings))
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
                settings.supabase_url, settings.supabase_anon_key.get_secret_value(), verifier, settings.http_timeout_s,
                throttle=throttle,
            )
        return SupabaseAuth(verifier, login)
    if mode == "local":
        if not accounts.count():
            log.warning("TENKAIGEN_AUTH=local but no account exists: add one with `python app.py add-user NAME`")
        return LocalAccountsAuth(accounts, throttle)
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


def build_generator(settings: Settings, catalog: Catalog, webhook_secret: str) -> Generator:
    if settings.modal_generate_endpoint:
        return RemoteWorkerDispatcher(
            settings.modal_generate_endpoint,
            webhook_secret,
            timeout_s=settings.http_timeout_s,
            max_attempts=settings.dispatch_attempts,
            backoff=exponential_backoff(settings.dispatch_backoff_s),
        )
    if settings.model_path:
        return LocalDiffusersGenerator.for_model(
            settings.model_path,
            cache_dir=settings.hf_cache_dir,
            revision=settings.model_revision,
            allow_download=settings.allow_model_download,
            lightning=settings.lightning_steps,
            nunchaku=settings.use_nunchaku,
        )
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


def build_prompt_parser(settings: Settings, catalog: Catalog) -> PromptParser:
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
    jobs, accounts = build_stores(settings)
    return Backends(
        jobs=jobs,
        accounts=accounts,
        objects=build_object_store(settings),
        parser=build_prompt_parser(settings, catalog),
        generator=build_generator(settings, catalog, secret),
        catalog=catalog,
        webhook_secret=secret,
        policy=load_policy(settings.policy_file),
    )


def generator_label(generator: Generator) -> str:
    if isinstance(generator, DraftGenerator):
        return "offline draft renderer (no GPU configured)"
    if isinstance(generator, LocalDiffusersGenerator):
        return f"{generator.model_name} in this process (TENKAIGEN_MODEL_PATH)"
    return f"{generator.model_name} on the GPU worker"


def create_app(settings: Settings, backends: Backends | None = None) -> FastAPI:
    """The whole app: API routes, local media, and the studio mounted at /."""
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from api.deps import AppServices
    from api.errors import install_error_handlers
    from api.limits import install_request_limits
    from api.routes import catalog as catalog_routes
    from api.routes import generate as generate_routes
    from api.routes import account as account_routes
    from core.jobs.recovery import JobRecovery, RecoveryLoop, RecoveryPolicy
    from core.jobs.service import GenerationService, ServiceLimits
    from ui.files import StudioFiles

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
        quotas=QuotaLimits(settings.quota_per_minute, settings.quota_per_day, settings.quota_in_flight),
    )
    authenticator = build_authenticator(settings, backends.accounts)
    recovery = JobRecovery(
        service,
        backends.jobs,
        RecoveryPolicy(pending_grace_s=settings.pending_grace_s, processing_deadline_s=settings.job_deadline_s),
    )

    files = StudioFiles(service)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # start-up pass (jobs a previous run left pending), then every interval
        loop = RecoveryLoop(recovery, settings.recovery_interval_s).start()
        yield
        loop.stop()
        backends.close()
        files.close()

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
    install_request_limits(app, settings)
    if isinstance(backends.objects, LocalObjectStore) and not settings.storage_public_base_url:
        app.mount(MEDIA_ROUTE, StaticFiles(directory=backends.objects.root), name="media")
    studio = StudioParts(service, DashboardService(backends.jobs, backends.objects), files, backends.catalog,
                         generator_label(backends.generator), settings.generation_steps, settings.max_upload_bytes)
    return mount_studio(app, studio, authenticator)


@dataclass(frozen=True)
class StudioParts:
    """What the studio is built from, besides who is signed in."""

    service: GenerationService
    dashboard: DashboardService
    files: StudioFiles
    catalog: Catalog
    generator_label: str
    default_steps: int
    max_upload_bytes: int


def mount_studio(app: FastAPI, parts: StudioParts, authenticator: Authenticator) -> FastAPI:
    """The studio at /; behind Gradio's login form unless auth is off."""
    import gradio as gr
    from starlette.concurrency import run_in_threadpool

    from ui.context import StudioContext
    from ui.studio import create_ui
    from ui.theme import studio_css, studio_theme

    studio = create_ui(StudioContext(
        service=parts.service,
        dashboard=parts.dashboard,
        files=parts.files,
        # the signed-in username from Gradio's login ("" with auth off: the local admin)
        identify=lambda username: authenticator.identity_for(username or ""),
        generator_label=parts.generator_label,
        default_steps=parts.default_steps,
    ))
    options = {"path": "/", "theme": studio_theme(), "css": studio_css(parts.catalog), "max_file_size": parts.max_upload_bytes}
    if not authenticator.requires_login:
        return gr.mount_gradio_app(app, studio, **options)

    async def check_login(username: str, password: str) -> bool:
        return await run_in_threadpool(authenticator.login, username, password)

    message = "Sign in with your TenkaiGen account" if authenticator.mode == "local" else "Sign in with your email and password"
    return gr.mount_gradio_app(app, studio, auth=check_login, auth_message=message, **options)


# --- the command line -------------------------------------------------------------------------
def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"cannot be negative, got {value:g}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="app.py",
        description="TenkaiGen. Without a command: serve the API and the studio. "
        "Settings come from the environment or .env, as for the app.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    parser.add_argument("--share", action="store_true",
                        help="also open a temporary public link through Gradio's share servers "
                        "(needs outbound internet; same as TENKAIGEN_SHARE=1)")
    commands = parser.add_subparsers(dest="command", title="operator commands", metavar="COMMAND")
    commands.add_parser(
        "doctor", help="check every configured part and say how to fix what fails",
        description="Check the database, the bucket (write, read back, anonymous fetch of the public URL, delete), "
        "the webhook URL, the GPU worker's /health, the webhook secret and the Gemini key. "
        "Exit status 1 when any check fails.",
    )
    commands.add_parser(
        "migrate", help="apply the sql/ migrations to Postgres",
        description="Apply pending sql/ migrations to DATABASE_URL (what the app does at start). "
        "On SQLite there is nothing to do: the schema is created when the app starts.",
    )
    lifecycle = commands.add_parser(
        "lifecycle", help="expire generated images after N days (S3 buckets: B2, R2, S3)",
        description="Set or show the bucket's lifecycle rule that expires objects under B2_S3_PREFIX. "
        "Other rules of the bucket are kept. S3 storage only: local folders have no lifecycle rules.",
    )
    action = lifecycle.add_mutually_exclusive_group(required=True)
    action.add_argument("--days", type=positive_int, metavar="N", help="expire objects N days after upload")
    action.add_argument("--show", action="store_true", help="print the bucket's current rules")
    stats = commands.add_parser(
        "stats", help="job counts, success rate and processing times",
        description="Monitoring figures over the jobs created in the last N days: totals, success rate "
        "(completed / (completed + failed)), average, p50 and p95 processing time of completed jobs, "
        "per day, per style and product, and the latest failures.",
    )
    stats.add_argument("--days", type=positive_int, default=DEFAULT_WINDOW_DAYS, metavar="N",
                       help=f"window in days (default {DEFAULT_WINDOW_DAYS})")
    costs = commands.add_parser(
        "costs", help="storage used and its monthly cost on B2 vs R2",
        description="Storage used under B2_S3_PREFIX, egress estimated as images completed in the last 30 days "
        "× average object size × --views-per-image, and the monthly price on Backblaze B2 and Cloudflare R2 "
        "with the setup guide's figures.",
    )
    add_user = commands.add_parser(
        "add-user", help="add a local account (sign-in switches on at the next start)",
        description="Add a local TenkaiGen account. Its password comes from standard input "
        "(--password-stdin), TENKAIGEN_NEW_PASSWORD, or a prompt.",
    )
    add_user.add_argument("name", help="account name; also the user id its jobs are stored under")
    add_user.add_argument("--admin", action="store_true", help="may open the admin routes and tab")
    add_user.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    costs.add_argument("--views-per-image", type=non_negative_float, default=1.0, metavar="X",
                       help="downloads per generated image in a month (default 1: each image fetched once)")
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def command_doctor(settings: Settings, args: argparse.Namespace) -> int:
    results = run_doctor(settings, object_store=lambda: build_object_store(settings))
    print(render_doctor(results, marks_for(sys.stdout)))
    return 0 if all(r.ok for r in results) else 1


def command_migrate(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.database_url:
        print(f"SQLite at {settings.sqlite_path}: nothing to migrate; the schema is created when the app starts "
              "(sql/ is for Postgres: set DATABASE_URL).")
        return 0
    applied = apply_migrations(settings.database_url, connect_timeout_s=settings.http_timeout_s)
    print(render_migrate(describe_database(settings.database_url), applied, len(migration_names())))
    return 0


def command_lifecycle(settings: Settings, args: argparse.Namespace) -> int:
    store = build_object_store(settings)
    if not isinstance(store, S3ObjectStore):
        print(f"error: lifecycle rules are a bucket setting, and images are stored in the local folder "
              f"{settings.data_dir / 'objects'}, where they are kept until deleted. "
              "Set B2_S3_BUCKET (and the other B2_S3_* settings) to store them in a bucket.", file=sys.stderr)
        return 1
    if args.show:
        print(render_rules(store.bucket, [summarize(r) for r in current_rules(store.client, store.bucket)]))
        return 0
    change = set_expiry(store.client, store.bucket, store.prefix, args.days,
                        delete_hidden_versions=is_b2_endpoint(settings.b2_s3_endpoint))
    print(render_lifecycle_change(store.bucket, change))
    return 0


def command_stats(settings: Settings, args: argparse.Namespace) -> int:
    jobs = build_job_store(settings, migrate=False)
    try:
        stats = jobs.stats(window_start(args.days))
    finally:
        jobs.close()
    print(render_stats(stats))
    return 0


def command_costs(settings: Settings, args: argparse.Namespace) -> int:
    objects = build_object_store(settings)
    usage = objects.usage()
    jobs = build_job_store(settings, migrate=False)
    try:
        completed = jobs.stats(window_start(DEFAULT_WINDOW_DAYS)).completed
    finally:
        jobs.close()
    estimate = estimate_monthly_costs(usage, completed, args.views_per_image)
    where = (f"{objects.prefix} in bucket {objects.bucket!r}" if isinstance(objects, S3ObjectStore)
             else f"{objects.prefix} in the local folder (what it would cost in a bucket)")
    print(render_costs(estimate, usage, where, completed, args.views_per_image))
    return 0


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


def command_add_user(settings: Settings, args: argparse.Namespace) -> int:
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


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "doctor": command_doctor,
    "migrate": command_migrate,
    "lifecycle": command_lifecycle,
    "stats": command_stats,
    "costs": command_costs,
    "add-user": command_add_user,
}


def run_command(name: str, args: argparse.Namespace) -> int:
    """Run one operator command; expected failures become one `error:` line and exit status 1."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")  # an ASCII terminal gets "?" for "→", not a crash
    try:
        return COMMANDS[name](Settings(), args)
    except ValidationError as exc:
        print(f"error: invalid settings: {exc}", file=sys.stderr)
    except psycopg.errors.UndefinedTable as exc:
        print(f"error: {str(exc).strip()}: run `python app.py migrate` first", file=sys.stderr)
    except psycopg.Error as exc:
        print(f"error: database: {str(exc).strip() or type(exc).__name__} (check DATABASE_URL; "
              "`python app.py doctor` says more)", file=sys.stderr)
    except (ClientError, BotoCoreError, StorageError) as exc:
        print(f"error: storage: {exc} (check B2_S3_*; `python app.py doctor` says more)", file=sys.stderr)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 1


def serve(host: str, port: int, share: bool = False) -> int:
    import uvicorn

    from ui.share import share_when_started

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
    if share or settings.gradio_share:
        # the tunnel needs the port open, so it is opened once uvicorn has started
        threading.Thread(target=share_when_started, args=(lambda: server.started, host, port),
                         name="share-link", daemon=True).start()
    log.info("serving on http://%s:%s", host, port)
    server.run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command is None:
        return serve(args.host, args.port, share=args.share)
    return run_command(args.command, args)


if __name__ == "__main__":
    raise SystemExit(main())
