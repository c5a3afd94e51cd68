"""`python app.py doctor`: checks every configured part and says how to fix what fails.

Each check is one of the ways a deployment breaks in practice, with its fix: the bucket
refuses uploads, a completed job's image URL does not open, the GPU worker cannot reach the
webhook, the secret is a placeholder (docs/operations.md lists them as troubleshooting cases).
Each check catches its own errors, so one broken part never hides the others, and every
network call has a timeout (`TENKAIGEN_HTTP_TIMEOUT_S`).
"""

from __future__ import annotations

import binascii
import ipaddress
import os
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx
import psycopg
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from psycopg.conninfo import conninfo_to_dict
from standardwebhooks.webhooks import Webhook

from core.errors import StorageError
from core.jobs.migrations import migration_names, pending_migrations
from core.settings import Settings
from core.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from core.worker_contract.webhooks import is_placeholder_secret

PROBE_FOLDER = "_doctor/"
# a valid 1x1 PNG, written and deleted again by the storage check
PROBE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005ff02fe5ba5d5f40000000049454e44ae426082"
)

Scope = Literal["loopback", "private", "public"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def passed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, True, detail)


def failed(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, False, detail, fix)


def run_doctor(
    settings: Settings,
    object_store: Callable[[], ObjectStore],
    http: httpx.Client | None = None,
) -> list[CheckResult]:
    """Every check, in the order an operator would fix them. `object_store` builds the
    configured store (core.backends' `object_store_from_settings`); building it is part of the check."""
    timeout_s = settings.http_timeout_s
    client = http or httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)))
    try:
        return [
            check_database(settings),
            *check_storage(object_store, client),
            check_webhook_url(settings),
            check_worker(settings, client),
            check_webhook_secret(settings),
            check_gemini(settings),
            check_printful(settings, client, object_store),
        ]
    finally:
        if http is None:
            client.close()


# --- database ---------------------------------------------------------------------------------
def check_database(settings: Settings) -> CheckResult:
    if settings.database_url:
        return _check_postgres(settings.database_url, settings.http_timeout_s)
    return _check_sqlite(settings.sqlite_path)


def describe_database(database_url: str) -> str:
    """host:port/dbname of a connection string, without its password."""
    try:
        info = conninfo_to_dict(database_url)
    except psycopg.ProgrammingError:
        return "the DATABASE_URL database"
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def _check_postgres(database_url: str, timeout_s: float) -> CheckResult:
    name = "database"
    where = describe_database(database_url)
    try:
        pending = pending_migrations(database_url, connect_timeout_s=timeout_s)
    except psycopg.Error as exc:
        return failed(
            name,
            f"cannot use Postgres at {where}: {_first_line(exc)}",
            "check DATABASE_URL (host, port, user, password, database); on Supabase copy the connection "
            "string from Project Settings → Database, and keep `?sslmode=require` if it has one",
        )
    if pending:
        return failed(
            name,
            f"Postgres at {where} is reachable but {len(pending)} migration(s) are not applied: {', '.join(pending)}",
            "run `python app.py migrate` (or paste the files from sql/ into the Supabase SQL editor)",
        )
    return passed(name, f"Postgres at {where} is reachable; all {len(migration_names())} migration(s) applied")


def _check_sqlite(path: Path) -> CheckResult:
    name = "database"
    if path.exists():
        try:
            with sqlite3.connect(path, timeout=5) as conn:
                conn.execute("BEGIN IMMEDIATE")  # takes the write lock without writing
                conn.rollback()
        except sqlite3.Error as exc:
            return failed(
                name,
                f"SQLite file {path} cannot be written: {exc}",
                f"make {path} and its folder writable by this user, or set TENKAIGEN_DATA_DIR to a writable folder",
            )
        return passed(name, f"SQLite file {path} is writable (the schema is created at start)")
    folder = _nearest_existing(path.parent)
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return failed(
            name,
            f"SQLite file {path} cannot be created: {folder} is not writable",
            "set TENKAIGEN_DATA_DIR to a writable folder, or fix the folder's permissions",
        )
    return passed(name, f"SQLite file {path} will be created at start (its folder is writable)")


def _nearest_existing(path: Path) -> Path:
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


# --- storage ----------------------------------------------------------------------------------
def check_storage(object_store: Callable[[], ObjectStore], http: httpx.Client) -> list[CheckResult]:
    """The bucket (or folder) exists; a probe object is written, read back, fetched at its
    public URL without credentials, and deleted. Stops at the first failure."""
    try:
        store = object_store()
    except (OSError, ValueError, StorageError, BotoCoreError) as exc:
        return [failed("storage", f"cannot set up storage: {_short(str(exc))}",
                       "check B2_S3_ENDPOINT (a full https:// URL) and B2_S3_REGION, or that TENKAIGEN_DATA_DIR is a writable folder")]
    results: list[CheckResult] = []
    if isinstance(store, S3ObjectStore):
        results.append(_check_bucket(store))
        if not results[-1].ok:
            return results
    key = f"{store.prefix}{PROBE_FOLDER}{uuid.uuid4().hex}.png"
    where = _storage_place(store)
    try:
        store.put_png(key, PROBE_PNG)
        if store.get(key) != PROBE_PNG:
            return [*results, failed("storage write", f"{key} read back different bytes from {where}", storage_fix(store))]
    except StorageError as exc:
        return [*results, failed("storage write", _short(str(exc)), storage_fix(store, exc))]
    results.append(passed("storage write", f"wrote and read back {key} in {where}"))
    try:
        results.append(_check_public_url(store, key, http))
    finally:
        results.append(_delete_probe(store, key))
    return results


def _storage_place(store: ObjectStore) -> str:
    if isinstance(store, S3ObjectStore):
        return f"bucket {store.bucket!r} at {store.endpoint}"
    if isinstance(store, LocalObjectStore):
        return f"local folder {store.root}"
    return "storage"


def _check_bucket(store: S3ObjectStore) -> CheckResult:
    # A GET (not HEAD) so the error body says *why*: NoSuchBucket, InvalidAccessKeyId, ...
    try:
        store.client.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix, MaxKeys=1)
    except (BotoCoreError, ClientError) as exc:
        return failed("bucket", f"bucket {store.bucket!r} at {store.endpoint}: {_short(str(exc))}", storage_fix(store, exc))
    return passed("bucket", f"bucket {store.bucket!r} at {store.endpoint} is reachable with these credentials")


def _s3_error_code(exc: BaseException | None) -> str:
    while exc is not None:
        if isinstance(exc, ClientError):
            return str(exc.response.get("Error", {}).get("Code", ""))
        exc = exc.__cause__
    return ""


def storage_fix(store: ObjectStore, exc: BaseException | None = None) -> str:
    """Why an upload to the bucket fails (credentials, bucket name, endpoint, permissions), narrowed down by the error."""
    if isinstance(store, LocalObjectStore):
        return "make the storage folder writable, or set TENKAIGEN_DATA_DIR to a writable folder"
    code = _s3_error_code(exc)
    chain = [exc, exc.__cause__] if exc is not None else []
    if code in {"NoSuchBucket", "404", "NotFound"}:
        return "create the bucket (B2: Buckets → Create a Bucket, files Public) or set B2_S3_BUCKET to an existing one"
    if code == "InvalidAccessKeyId":
        return "B2_S3_ACCESS_KEY_ID is not a key this endpoint knows: use the keyID of a B2 application key (R2: the API token's Access Key ID)"
    if code == "SignatureDoesNotMatch":
        return "B2_S3_SECRET_ACCESS_KEY does not belong to B2_S3_ACCESS_KEY_ID: copy the applicationKey shown once when the key was made"
    if code in {"AccessDenied", "403", "Forbidden", "AllAccessDisabled"}:
        return ("the key may not use this bucket: give the application key read and write access to it "
                "(a B2 key restricted to another bucket is refused), or check B2_S3_BUCKET")
    if code in {"AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException"}:
        return "B2_S3_REGION must match the endpoint (us-east-005 for s3.us-east-005.backblazeb2.com; auto for R2)"
    if any(isinstance(e, NoCredentialsError) for e in chain):
        return "set B2_S3_ACCESS_KEY_ID and B2_S3_SECRET_ACCESS_KEY"
    if any(isinstance(e, BotoCoreError) for e in chain):  # EndpointConnectionError, timeouts, bad URLs
        return "check B2_S3_ENDPOINT (e.g. https://s3.us-east-005.backblazeb2.com) and this host's network"
    return "check B2_S3_* (credentials, bucket name, endpoint, region)"


def _check_public_url(store: ObjectStore, key: str, http: httpx.Client) -> CheckResult:
    """A completed job's image URL must open for anyone (a private bucket leaves designs without an image)."""
    name = "public URL"
    url = store.public_url(key)
    if not urlsplit(url).scheme:
        return passed(name, f"images are served by this app at {url.rsplit(key, 1)[0]}… (not fetched: the app is not running here)")
    try:
        response = http.get(url)  # no credentials: what a browser gets
    except httpx.HTTPError as exc:
        return failed(name, f"GET {url} failed: {_short(str(exc)) or type(exc).__name__}",
                      "set STORAGE_PUBLIC_BASE_URL to a public address of the bucket, or check B2_S3_ENDPOINT")
    if response.status_code == 200 and response.content == PROBE_PNG:
        return passed(name, f"anonymous GET {url} answered 200 with the object")
    if response.status_code in {401, 403}:
        return failed(name, f"anonymous GET {url} answered {response.status_code}: the bucket is not public",
                      "make the bucket public (B2: Bucket Settings → Files in Bucket are: Public; R2: enable the r2.dev "
                      "URL or a custom domain) or set STORAGE_PUBLIC_BASE_URL to a public domain for it")
    return failed(name, f"anonymous GET {url} answered {response.status_code} without the object",
                  "STORAGE_PUBLIC_BASE_URL must be the address where object keys start (…/{bucket} for B2's S3 URL)")


def _delete_probe(store: ObjectStore, key: str) -> CheckResult:
    try:
        store.delete(key)
    except StorageError as exc:
        return failed("storage delete", _short(str(exc)),
                      f"give the key delete rights (B2: deleteFiles), then remove {key} by hand")
    return passed("storage delete", f"deleted {key}")


# --- webhook URL and worker -------------------------------------------------------------------
def address_scope(host: str) -> Scope:
    """Who can reach `host`: only this machine, a private network, or anyone.

    Names are not resolved (no DNS lookups without a timeout); names that only mean
    something on a local network (single labels, .local, .internal, .lan) count as private.
    """
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host or host.endswith((".local", ".internal", ".lan", ".home.arpa")):
            return "private"
        return "public"
    if address.is_loopback or address.is_unspecified:
        return "loopback"
    return "public" if address.is_global else "private"


def check_webhook_url(settings: Settings) -> CheckResult:
    """A remote GPU worker cannot reach a localhost or private webhook URL from its cloud."""
    name = "webhook URL"
    url = settings.effective_webhook_url
    origin = "TENKAIGEN_WEBHOOK_URL" if settings.webhook_url else "built from TENKAIGEN_PUBLIC_URL"
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return failed(name, f"{url!r} ({origin}) is not an http(s) URL",
                      "set TENKAIGEN_WEBHOOK_URL to https://<this app>/api/generate/webhook")
    worker = settings.modal_generate_endpoint
    if not worker:
        return passed(name, f"{url} ({origin}); not used: the draft renderer makes images in-process")
    worker_scope = address_scope(urlsplit(worker).hostname or "")
    hook_scope = address_scope(parts.hostname)
    unreachable = hook_scope == "loopback" or (worker_scope == "public" and hook_scope == "private")
    if worker_scope != "loopback" and unreachable:
        return failed(
            name,
            f"{url} ({origin}) is a {hook_scope} address, but the worker at {worker} is remote: "
            "it cannot post results there (localhost webhooks don't work from Modal's cloud)",
            "set TENKAIGEN_WEBHOOK_URL to a public URL of this app ending in /api/generate/webhook: "
            "your deployed domain, or a tunnel (ngrok, cloudflared) for local testing",
        )
    return passed(name, f"{url} ({origin}) is a {hook_scope} address the worker at {worker} can reach")


def check_worker(settings: Settings, http: httpx.Client) -> CheckResult:
    name = "GPU worker"
    endpoint = settings.modal_generate_endpoint
    if not endpoint:
        return passed(name, "MODAL_GENERATE_ENDPOINT unset: the offline draft renderer makes images (no GPU)")
    url = endpoint.rstrip("/") + "/health"
    fix = ("check MODAL_GENERATE_ENDPOINT: the base URL `modal deploy` printed (…modal.run, without /generate); "
           "deploy the worker if it is not running")
    try:
        response = http.get(url)
    except httpx.TimeoutException:
        return failed(name, f"GET {url} timed out after {settings.http_timeout_s:g} s",
                      "a worker scaled to zero may be cold-starting: run doctor again, or raise TENKAIGEN_HTTP_TIMEOUT_S; " + fix)
    except httpx.HTTPError as exc:
        return failed(name, f"GET {url} failed: {_short(str(exc)) or type(exc).__name__}", fix)
    if response.is_success:
        return passed(name, f"GET {url} answered {response.status_code}")
    return failed(name, f"GET {url} answered {response.status_code}", fix)


# --- secrets and keys -------------------------------------------------------------------------
def check_webhook_secret(settings: Settings) -> CheckResult:
    name = "webhook secret"
    generate = 'python -c "from core.worker_contract.webhooks import generate_webhook_secret as g; print(g())"'
    if settings.webhook_secret is None:
        stored = settings.data_dir / "webhook_secret"
        state = "the app uses the one it generated in" if stored.exists() else "the app will generate one at start in"
        shared = (" — the remote worker must sign with the same value, so copy it into the worker's "
                  "TENKAIGEN_WEBHOOK_SECRET" if settings.modal_generate_endpoint else "")
        return passed(name, f"TENKAIGEN_WEBHOOK_SECRET unset: {state} {stored} (fine for a single host){shared}")
    secret = settings.webhook_secret.get_secret_value()
    if is_placeholder_secret(secret):
        return failed(name, "TENKAIGEN_WEBHOOK_SECRET is a placeholder, so anyone could forge results",
                      f"set it to a generated secret ({generate}) and give the worker the same value")
    try:
        Webhook(secret)
    except (ValueError, binascii.Error):
        return failed(name, "TENKAIGEN_WEBHOOK_SECRET is not a Standard Webhooks secret (whsec_ followed by base64)",
                      f"generate one: {generate}")
    return passed(name, "TENKAIGEN_WEBHOOK_SECRET is set")


def check_gemini(settings: Settings) -> CheckResult:
    """A cheap authenticated call: fetch the configured model's metadata (no tokens spent)."""
    name = "Gemini"
    if settings.gemini_api_key is None or not settings.gemini_api_key.get_secret_value().strip():
        return passed(name, "GEMINI_API_KEY unset: prompts are parsed by the local parser")
    key = settings.gemini_api_key.get_secret_value().strip()
    get_key = "create a key at https://aistudio.google.com/apikey and set GEMINI_API_KEY to it"
    if key.lower().startswith("your_") or key.lower() in {"changeme", "xxx"}:
        return failed(name, "GEMINI_API_KEY is a placeholder", get_key)
    try:
        from google import genai
        from google.genai import errors, types
    except ImportError:
        return failed(name, "GEMINI_API_KEY is set but google-genai is not installed",
                      "pip install 'tenkaigen[gemini]' (or pip install google-genai)")
    client = genai.Client(
        api_key=key,
        http_options=types.HttpOptions(base_url=settings.gemini_base_url, timeout=int(settings.http_timeout_s * 1000)),
    )
    try:
        model = client.models.get(model=settings.gemini_model)
    except errors.APIError as exc:
        if exc.code == 404:
            return failed(name, f"the key works but model {settings.gemini_model!r} was not found",
                          "set GEMINI_MODEL to a model your key can use (e.g. gemini-2.5-flash)")
        return failed(name, f"Gemini refused the key ({exc.code} {exc.status}: {_short(exc.message or '')})", get_key)
    except Exception as exc:  # the SDK's transport errors have no common public base class
        return failed(name, f"Gemini did not answer: {_short(str(exc)) or type(exc).__name__}",
                      "check this host's network (and GEMINI_BASE_URL if set)")
    finally:
        client.close()
    return passed(name, f"key accepted; model {model.name or settings.gemini_model} available")


def check_printful(settings: Settings, http: httpx.Client,
                   object_store: Callable[[], ObjectStore] | None = None) -> CheckResult:
    """A cheap authenticated call (GET /stores: lists, changes nothing), and whether Printful
    could fetch print files from where they are stored (publishing needs public URLs)."""
    name = "Printful"
    token = settings.printful_api_token.get_secret_value().strip() if settings.printful_api_token else ""
    if not token:
        return passed(name, "PRINTFUL_API_TOKEN unset: bundled print sizes, no official mockups or publishing")
    get_token = ("create a private token at https://developers.printful.com/tokens with the stores, products and "
                 "mockup generator scopes, and set PRINTFUL_API_TOKEN to it")
    headers = {"Authorization": f"Bearer {token}"}
    if settings.printful_store_id:
        headers["X-PF-Store-Id"] = settings.printful_store_id
    url = settings.printful_base_url.rstrip("/") + "/stores"
    try:
        response = http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return failed(name, f"GET {url} failed: {_short(str(exc)) or type(exc).__name__}",
                      "check this host's network (and PRINTFUL_BASE_URL if set)")
    if response.status_code in {401, 403}:
        return failed(name, f"Printful refused the token ({response.status_code}: {_short(_printful_message(response))})",
                      get_token)
    if not response.is_success:
        fix = ("an account-level token needs PRINTFUL_STORE_ID (the store's id from GET /stores)"
               if response.status_code == 400 else "check PRINTFUL_STORE_ID and PRINTFUL_BASE_URL")
        return failed(name, f"GET {url} answered {response.status_code}: {_short(_printful_message(response))}", fix)
    stores = response.json().get("result") or []
    names = ", ".join(str(s.get("name", s.get("id"))) for s in stores if isinstance(s, dict)) or "none listed"
    if object_store is not None:
        try:
            probe = object_store().public_url("probe.png")
        except (OSError, ValueError, StorageError, BotoCoreError):
            probe = ""
        if probe and not urlsplit(probe).scheme:
            return failed(name, f"the token works (stores: {names}), but print files are served by this app at "
                                f"{probe.rsplit('/', 1)[0]}/…, where Printful cannot fetch them: publishing is refused",
                          "use a public bucket (B2_S3_*), or set STORAGE_PUBLIC_BASE_URL to a public address of the folder")
    return passed(name, f"token accepted; stores: {names}")


def _printful_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("message")) if isinstance(error, dict) and error.get("message") else str(body)


# --- text -------------------------------------------------------------------------------------
def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
