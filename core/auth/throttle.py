"""Sign-in throttling: exponential backoff per account and per client address.

Every password check (HTTP Basic, the studio's login form, Supabase's password grant)
asks `LoginThrottle.check` first, so a throttled guess costs no scrypt hash and no call to
Supabase. After `free_failures` failed sign-ins an account (or, after its own larger
allowance, a client address) waits 1 s, then 2 s, 4 s ... up to `max_delay_s` before the
next try is even looked at. A successful sign-in clears the account's count; an address's
count only fades, `forget_after_s` after its last failure, so one valid account cannot
launder a guessing address.

The counts live in the jobs database (`login_failures`), like the accounts: every app
process sees the same ones and a restart forgets nothing. Account names are stored hashed
(a password typed into the name field does not end up in the database).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from psycopg_pool import ConnectionPool

from core.errors import LoginThrottled
from core.logsafe import safe
from core.ops import metrics
from core.settings import Settings

log = logging.getLogger(__name__)

# The address of the request being served, set by the API's request-limits middleware:
# Gradio calls its login function with the name and password only, so the address
# travels with the request's context instead of through the call.
client_address: ContextVar[str | None] = ContextVar("tenkaigen_client_address", default=None)


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5
    # many people may share one address (an office, a carrier's NAT)
    free_failures_per_address: int = 20
    first_delay_s: float = 1.0
    max_delay_s: float = 15 * 60.0
    forget_after_s: float = 60 * 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            free_failures=settings.login_free_failures,
            free_failures_per_address=settings.login_free_failures_per_address,
            max_delay_s=settings.login_max_delay_s,
            forget_after_s=settings.login_forget_after_s,
        )

    def delay_after(self, failures: int, free: int) -> float:
        """Seconds to wait after the `failures`-th failure in a row."""
        if failures <= free:
            return 0.0
        doublings = min(failures - free - 1, 64)  # past 2**64 s the cap has long applied
        return min(self.max_delay_s, self.first_delay_s * 2**doublings)


class LoginFailures(Protocol):
    """Failed sign-in counts by key, atomic across processes. Times are epoch seconds."""

    def add_failure(self, key: str, now: float, forget_before: float) -> int:
        """Count one more failure for `key` (restarting from 1 when its last one is older
        than `forget_before`); the count after this one."""
        ...

    def lock(self, key: str, until: float) -> None:
        """No sign-in for `key` before `until` (a later lock already set is kept)."""
        ...

    def locked_until(self, keys: Sequence[str]) -> float:
        """The latest lock over `keys`; 0 when none is locked."""
        ...

    def clear(self, key: str) -> None: ...

    def forget(self, before: float) -> None:
        """Drop the counts whose last failure is older than `before`."""
        ...


class LoginThrottle:
    def __init__(self, failures: LoginFailures, policy: ThrottlePolicy = ThrottlePolicy(),
                 clock: Callable[[], float] = time.time) -> None:
        self._failures = failures
        self._policy = policy
        self._clock = clock

    def check(self, name: str, address: str | None = None) -> None:
        """Raise LoginThrottled while `name` or the caller's address must wait."""
        address = address or client_address.get()
        until = self._failures.locked_until(_keys(name, address))
        wait = until - self._clock()
        if wait > 0:
            error = LoginThrottled(wait)
            log.warning("sign-in throttled account=%s address=%s retry_after_s=%d",
                        safe(name, 64), safe(address, 64), error.retry_after_s)
            metrics.login_throttled()
            raise error

    def failed(self, name: str, address: str | None = None) -> None:
        address = address or client_address.get()
        now = self._clock()
        forget_before = now - self._policy.forget_after_s
        self._failures.forget(forget_before)
        free = {_account_key(name): self._policy.free_failures}
        if address:
            free[_address_key(address)] = self._policy.free_failures_per_address
        for key, allowance in free.items():
            failures = self._failures.add_failure(key, now, forget_before)
            delay = self._policy.delay_after(failures, allowance)
            if delay > 0:
                self._failures.lock(key, now + delay)
                log.warning("sign-in locked %s failures=%d for_s=%.0f",
                            f"account={safe(name, 64)}" if key.startswith("account:") else f"address={safe(address, 64)}",
                            failures, delay)

    def succeeded(self, name: str) -> None:
        self._failures.clear(_account_key(name))


def _account_key(name: str) -> str:
    # emails are case-insensitive, and a stricter key only throttles more
    return "account:" + hashlib.sha256(name.strip().lower().encode()).hexdigest()[:32]


def _address_key(address: str) -> str:
    return "address:" + address[:64]


def _keys(name: str, address: str | None) -> list[str]:
    return [_account_key(name)] + ([_address_key(address)] if address else [])


class SqliteLoginFailures:
    """On the account store's SQLite connection (and its lock), so the file is opened once."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock) -> None:
        self._conn = conn
        self._lock = lock  # the connection comes with the jobs database's schema (core.jobs.queries.open_sqlite)

    def add_failure(self, key: str, now: float, forget_before: float) -> int:
        with self._lock:
            return self._conn.execute(
                "INSERT INTO login_failures (key, failures, locked_until, last_failure_at) VALUES (?, 1, 0, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                "failures = CASE WHEN login_failures.last_failure_at < ? THEN 1 ELSE login_failures.failures + 1 END, "
                "locked_until = CASE WHEN login_failures.last_failure_at < ? THEN 0 ELSE login_failures.locked_until END, "
                "last_failure_at = excluded.last_failure_at "
                "RETURNING failures",
                (key, now, forget_before, forget_before),
            ).fetchone()[0]

    def lock(self, key: str, until: float) -> None:
        with self._lock:
            self._conn.execute("UPDATE login_failures SET locked_until = MAX(locked_until, ?) WHERE key = ?", (until, key))

    def locked_until(self, keys: Sequence[str]) -> float:
        marks = ", ".join("?" for _ in keys)
        with self._lock:
            row = self._conn.execute(
                f"SELECT COALESCE(MAX(locked_until), 0) FROM login_failures WHERE key IN ({marks})", tuple(keys)
            ).fetchone()
        return float(row[0])

    def clear(self, key: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))

    def forget(self, before: float) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM login_failures WHERE last_failure_at < ? AND locked_until < ?",
                               (before, before))


class PostgresLoginFailures:
    """On the account store's pool; the table comes from sql/030_login_throttle.sql."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def add_failure(self, key: str, now: float, forget_before: float) -> int:
        with self._pool.connection() as conn:
            return conn.execute(
                "INSERT INTO login_failures (key, failures, locked_until, last_failure_at) VALUES (%s, 1, 0, %s) "
                "ON CONFLICT (key) DO UPDATE SET "
                "failures = CASE WHEN login_failures.last_failure_at < %s THEN 1 ELSE login_failures.failures + 1 END, "
                "locked_until = CASE WHEN login_failures.last_failure_at < %s THEN 0 ELSE login_failures.locked_until END, "
                "last_failure_at = excluded.last_failure_at "
                "RETURNING failures",
                (key, now, forget_before, forget_before),
            ).fetchone()["failures"]

    def lock(self, key: str, until: float) -> None:
        with self._pool.connection() as conn:
            conn.execute("UPDATE login_failures SET locked_until = GREATEST(locked_until, %s) WHERE key = %s", (until, key))

    def locked_until(self, keys: Sequence[str]) -> float:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT COALESCE(MAX(locked_until), 0) AS until FROM login_failures WHERE key = ANY(%s)", (list(keys),)
            ).fetchone()
        return float(row["until"])

    def clear(self, key: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM login_failures WHERE key = %s", (key,))

    def forget(self, before: float) -> None:
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM login_failures WHERE last_failure_at < %s AND locked_until < %s", (before, before))
