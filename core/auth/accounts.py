"""Local accounts (the embedded alternative to Supabase), kept in the jobs database.

The table is `tenkaigen_users` (not `users`, which a Supabase project often has already):
SQLite creates it from `sql/sqlite/schema.sql` when the store opens, Postgres gets it from
`sql/020_accounts_and_quotas.sql`; the statements are in `sql/queries/<dialect>.sql`.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from psycopg.errors import UniqueViolation
from psycopg_pool import ConnectionPool

from core.auth.passwords import MIN_PASSWORD_CHARS, hash_password, verify_password
from core.auth.throttle import LoginFailures, PostgresLoginFailures, SqliteLoginFailures
from core.errors import InvalidRequest
from core.jobs.queries import load_queries, open_sqlite

ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
# checked when the name is unknown, so an unknown name costs as long as a wrong password
_DUMMY_HASH = hash_password("no such account")


@dataclass(frozen=True)
class Account:
    name: str
    is_admin: bool


class AccountStore(Protocol):
    """Named accounts with hashed passwords; the name is the user id of their jobs."""

    def add(self, name: str, password: str, is_admin: bool = False) -> Account:
        """Create an account; InvalidRequest for a bad or taken name or a short password."""
        ...

    def authenticate(self, name: str, password: str) -> Account | None:
        """The account when the password matches, else None."""
        ...

    def count(self) -> int: ...

    def login_failures(self) -> LoginFailures:
        """The failed sign-in counts, kept in the same database."""
        ...

    def close(self) -> None: ...


def check_new_account(name: str, password: str) -> None:
    if not ACCOUNT_NAME.fullmatch(name) or ".." in name:
        raise InvalidRequest(
            "account name must be 1-64 characters of letters, digits and . _ @ -, starting with a letter or digit,"
            " without '..'"
        )
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidRequest(f"password must be at least {MIN_PASSWORD_CHARS} characters")


class SqliteAccountStore:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._conn = open_sqlite(path)
        self._queries = load_queries("sqlite")

    def add(self, name: str, password: str, is_admin: bool = False) -> Account:
        check_new_account(name, password)
        try:
            with self._lock:
                self._conn.execute(self._queries["add_account"], (name, hash_password(password), int(is_admin)))
        except sqlite3.IntegrityError as exc:
            raise InvalidRequest(f"account {name!r} already exists") from exc
        return Account(name, is_admin)

    def authenticate(self, name: str, password: str) -> Account | None:
        with self._lock:
            row = self._conn.execute(self._queries["account_credentials"], (name,)).fetchone()
        if row is None:
            verify_password(password, _DUMMY_HASH)
            return None
        if not verify_password(password, row[0]):
            return None
        return Account(name, bool(row[1]))

    def count(self) -> int:
        with self._lock:
            return self._conn.execute(self._queries["count_accounts"]).fetchone()[0]

    def login_failures(self) -> LoginFailures:
        return SqliteLoginFailures(self._conn, self._lock)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresAccountStore:
    """Accounts in the Postgres jobs database, usually on the job store's pool (which closes it)."""

    def __init__(self, pool: ConnectionPool, owns_pool: bool = False) -> None:
        self._pool = pool
        self._owns_pool = owns_pool
        self._queries = load_queries("postgres")

    def add(self, name: str, password: str, is_admin: bool = False) -> Account:
        check_new_account(name, password)
        try:
            with self._pool.connection() as conn:
                conn.execute(self._queries["add_account"], (name, hash_password(password), is_admin))
        except UniqueViolation as exc:
            raise InvalidRequest(f"account {name!r} already exists") from exc
        return Account(name, is_admin)

    def authenticate(self, name: str, password: str) -> Account | None:
        with self._pool.connection() as conn:
            row = conn.execute(self._queries["account_credentials"], (name,)).fetchone()
        if row is None:
            verify_password(password, _DUMMY_HASH)
            return None
        if not verify_password(password, row["password_hash"]):
            return None
        return Account(name, bool(row["is_admin"]))

    def count(self) -> int:
        with self._pool.connection() as conn:
            return conn.execute(self._queries["count_accounts"]).fetchone()["n"]

    def login_failures(self) -> LoginFailures:
        return PostgresLoginFailures(self._pool)

    def close(self) -> None:
        if self._owns_pool:
            self._pool.close()
