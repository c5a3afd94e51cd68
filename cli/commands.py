"""The operator commands (doctor, migrate, lifecycle, stats, costs, add-user): each builds the
backends it needs through core.backends, as the server does, runs core's logic and prints
cli.render's text."""

from __future__ import annotations

import argparse
import getpass
import io
import logging
import os
import sys
from collections.abc import Callable

import psycopg
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
from core import backends
from core.errors import InvalidRequest, StorageError
from core.jobs.migrations import apply_migrations, migration_names
from core.ops.costs import estimate_gpu_costs, estimate_monthly_costs
from core.ops.doctor import describe_database, run_doctor
from core.ops.lifecycle import current_rules, is_b2_endpoint, set_expiry, summarize
from core.ops.stats import DEFAULT_WINDOW_DAYS, window_start
from core.settings import Settings
from core.storage import S3ObjectStore


def command_doctor(settings: Settings, args: argparse.Namespace) -> int:
    results = run_doctor(settings, object_store=lambda: backends.object_store_from_settings(settings))
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
    store = backends.object_store_from_settings(settings)
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
    database = backends.open_database(settings, migrate=False)
    try:
        stats = database.jobs.stats(window_start(args.days))
    finally:
        database.close()
    print(render_stats(stats, settings.gpu_usd_per_hour))
    return 0


def command_costs(settings: Settings, args: argparse.Namespace) -> int:
    objects = backends.object_store_from_settings(settings)
    usage = objects.usage()
    database = backends.open_database(settings, migrate=False)
    try:
        month = database.jobs.stats(window_start(DEFAULT_WINDOW_DAYS))
    finally:
        database.close()
    completed = month.completed
    estimate = estimate_monthly_costs(usage, completed, args.views_per_image)
    where = (f"{objects.prefix} in bucket {objects.bucket!r}" if isinstance(objects, S3ObjectStore)
             else f"{objects.prefix} in the local folder (what it would cost in a bucket)")
    print(render_costs(estimate, usage, where, completed, args.views_per_image,
                       estimate_gpu_costs(month, settings.gpu_usd_per_hour)))
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
    database = backends.open_database(settings)
    try:
        account = database.accounts.add(args.name, read_new_password(args.password_stdin), is_admin=args.admin)
    except InvalidRequest as exc:
        print(f"add-user: {exc}", file=sys.stderr)
        return 2
    finally:
        database.close()
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
