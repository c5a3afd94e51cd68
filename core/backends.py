"""Each backend built from Settings: the one place the server (app.py) and the operator
commands (cli/) both build them, so they open the same database and the same bucket."""

from __future__ import annotations

from collections.abc import Callable

import hashlib
import logging
from dataclasses import dataclass

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
from core.catalog.printful import PrintfulClient
from core.catalog.refresh import refresh_print_files
from core.generators import DraftGenerator, Generator, RemoteWorkerDispatcher
from core.generators.local_diffusers import LocalDiffusersGenerator
from core.generators.remote_worker import exponential_backoff
from core.jobs import JobStore
from core.jobs.migrations import apply_migrations
from core.jobs.postgres_store import PostgresJobStore, open_pool
from core.jobs.sqlite_store import SqliteJobStore
from core.parsing import LocalPromptParser, PromptParser
from core.publishing.postgres_store import PostgresPublishingStore
from core.publishing.sqlite_store import SqlitePublishingStore
from core.publishing.store import PublishingStore
from core.parsing.cache import BriefCache
from core.parsing.gemini import GeminiPromptParser
from core.printing.processors import LocalPrintProcessor, PrintProcessor
from core.printing.remote import RemotePostprocessor
from core.settings import Settings
from core.worker_contract.engine import ImageEngine
from core.storage import LocalObjectStore, ObjectStore, S3ObjectStore, make_s3_client
from core.worker_contract.webhooks import ensure_webhook_secret

log = logging.getLogger(__name__)

# where the app serves a local folder's images (api.app mounts it; the store's URLs point there)
MEDIA_ROUTE = "/media"


@dataclass
class Database:
    """The jobs, the local accounts and what was published to Printful, all in the jobs
    database (one pool on Postgres)."""

    jobs: JobStore
    accounts: AccountStore
    publishing: PublishingStore

    def close(self) -> None:
        self.publishing.close()
        self.accounts.close()
        self.jobs.close()


def open_database(settings: Settings, migrate: bool = True) -> Database:
    """SQLite at TENKAIGEN_DATA_DIR, or Postgres at DATABASE_URL with pending migrations
    applied first unless `migrate` is False (read-only commands leave the schema to
    `python app.py migrate`)."""
    if not settings.database_url:
        return Database(SqliteJobStore(settings.sqlite_path), SqliteAccountStore(settings.sqlite_path),
                        SqlitePublishingStore(settings.sqlite_path))
    if migrate:
        apply_migrations(settings.database_url, connect_timeout_s=settings.http_timeout_s)
    pool = open_pool(settings.database_url, max_size=settings.database_pool_size, timeout_s=settings.http_timeout_s)
    return Database(PostgresJobStore(pool), PostgresAccountStore(pool), PostgresPublishingStore(pool))


def object_store_from_settings(settings: Settings) -> ObjectStore:
    """The S3 bucket when B2_S3_BUCKET is set, else the local folder served at MEDIA_ROUTE."""
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


def webhook_secret_from_settings(settings: Settings) -> str:
    """TENKAIGEN_WEBHOOK_SECRET, else the one generated once into the data folder."""
    if settings.webhook_secret:
        return settings.webhook_secret.get_secret_value()
    return ensure_webhook_secret(settings.data_dir)


def generator_from_settings(
    settings: Settings,
    catalog: Catalog,
    webhook_secret: str,
    local_engine: Callable[[Settings], ImageEngine] | None = None,
) -> Generator:
    """The GPU worker at MODAL_GENERATE_ENDPOINT, else a model in this process
    (TENKAIGEN_MODEL_PATH, its engine made by `local_engine`: the worker's own, which the
    composition root passes in since core does not import modal_app), else the offline
    draft renderer."""
    if settings.modal_generate_endpoint:
        return RemoteWorkerDispatcher(
            settings.modal_generate_endpoint,
            webhook_secret,
            timeout_s=settings.http_timeout_s,
            max_attempts=settings.dispatch_attempts,
            backoff=exponential_backoff(settings.dispatch_backoff_s),
        )
    if settings.model_path:
        if local_engine is None:
            raise ValueError("TENKAIGEN_MODEL_PATH is set but no in-process engine was wired")
        return LocalDiffusersGenerator(local_engine(settings))
    return DraftGenerator(
        {s.id: s.palette for s in catalog.styles.values()},
        base_colors={p.id: p.base_color for p in catalog.products.values()},
        png_metadata=settings.png_metadata,
    )


def print_processor_from_settings(settings: Settings, webhook_secret: str) -> PrintProcessor:
    """The GPU worker's print models when MODAL_GENERATE_ENDPOINT is set and TENKAIGEN_GPU_PRINT
    is `auto` (the local path stands in whenever they fail), else the local flood fill and Lanczos."""
    if settings.modal_generate_endpoint and settings.gpu_print == "auto":
        return RemotePostprocessor(settings.modal_generate_endpoint, webhook_secret,
                                   backoff=exponential_backoff(settings.dispatch_backoff_s))
    return LocalPrintProcessor()


def catalog_from_settings(settings: Settings) -> Catalog:
    """The bundled styles and products; with PRINTFUL_API_TOKEN, print areas read from Printful."""
    catalog = load_catalog()
    if not settings.printful_api_token:
        return catalog
    with printful_client_from_settings(settings) as client:
        return refresh_print_files(catalog, client, within_s=2 * settings.http_timeout_s)


def printful_client_from_settings(settings: Settings, clock: Callable[[], float] | None = None) -> PrintfulClient:
    """`clock` (epoch seconds) replaces the lockout clock, for tests that move time."""
    token = settings.printful_api_token.get_secret_value() if settings.printful_api_token else ""
    return PrintfulClient(
        token, settings.printful_base_url, timeout_s=settings.http_timeout_s, store_id=settings.printful_store_id,
        **({"clock": clock} if clock is not None else {}),
    )


def printful_store_key(settings: Settings) -> str:
    """Whose mockup rate window a process counts in: the store id, else the store-level token's
    (a hash of it: the token itself is never stored)."""
    if settings.printful_store_id:
        return f"store:{settings.printful_store_id}"
    token = settings.printful_api_token.get_secret_value() if settings.printful_api_token else ""
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def prompt_parser_from_settings(settings: Settings, catalog: Catalog) -> PromptParser:
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


def authenticator_from_settings(settings: Settings, accounts: AccountStore) -> Authenticator:
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
