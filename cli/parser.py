"""The command line of `python app.py`: serve options, and one subcommand per operator command."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from core.ops.stats import DEFAULT_WINDOW_DAYS


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
    parser.add_argument("--workers", type=positive_int, default=1, metavar="N",
                        help="run N app processes on ports PORT .. PORT+N-1 under a supervisor, for a reverse "
                        "proxy with sticky sessions in front (docs/deployment.md; default 1)")
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
        "at the providers' list prices (core/ops/costs.py).",
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.workers > 1 and args.share:
        parser.error("--share opens one tunnel to one process: use a reverse proxy with --workers")
    return args
