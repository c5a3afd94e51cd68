"""Postgres for the tests: a throwaway server of the suite's own, and fresh databases on a server.

A developer's fresh Debian/Ubuntu cluster asks 127.0.0.1 for a password, so unless
TENKAIGEN_TEST_PG_URL names a server, the suite runs its own: `initdb` with trust auth into a
temporary folder, `pg_ctl start` on a free loopback port, durability off (the data is thrown
away), stopped and deleted at the end of the session. Only PostgreSQL's binaries are needed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from tests.support.servers import free_port

PG_URL_VARIABLE = "TENKAIGEN_TEST_PG_URL"
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
# postgres refuses to run as root; as root the server runs as this account (Debian's package creates it)
SERVER_ACCOUNT = "postgres"
# appended to postgresql.conf (the port is given at each start): loopback TCP only, and nothing
# waits for the disk
SERVER_CONF = """
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
"""
START_TIMEOUT_S = 60
STARTS_TRIED = 3  # another process may take the free port between choosing it and the server binding it


class PostgresNotInstalled(RuntimeError):
    """No initdb/pg_ctl on PATH nor under /usr/lib/postgresql/*/bin, or (as root) no `postgres` account."""


def find_postgres_bin() -> Path:
    """The folder holding initdb and pg_ctl: PATH's first, else Debian's newest version."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    candidates = [path for path in Path("/").glob(DEBIAN_BIN_GLOB.lstrip("/")) if (path / "initdb").is_file()]
    if not candidates:
        raise PostgresNotInstalled(
            f"PostgreSQL's initdb is neither on PATH nor under {DEBIAN_BIN_GLOB}: "
            f"run `make services` (installs Debian's postgresql) or set {PG_URL_VARIABLE} to a server")
    return max(candidates, key=lambda path: [int(part) for part in path.parent.name.split(".") if part.isdigit()])


def server_account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        raise PostgresNotInstalled(
            f"running as root, the test server runs as the account {SERVER_ACCOUNT!r}, which does not exist: "
            f"run `make services` (adds it) or set {PG_URL_VARIABLE} to a server") from None


class ThrowawayPostgres:
    """A Postgres server in a temporary folder on 127.0.0.1:<free port>, trust auth, user `postgres`."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_postgres_bin()
        self.port = 0
        self.root: Path | None = None
        self.startup_s = 0.0
        self._account = server_account() if os.geteuid() == 0 else None

    @property
    def data_dir(self) -> Path:
        assert self.root is not None, "not started"
        return self.root / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> ThrowawayPostgres:
        started = time.monotonic()
        # not pytest's tmp_path: its folders are private to the user running pytest, and as root
        # the server runs as another account
        self.root = Path(tempfile.mkdtemp(prefix="tenkaigen-pg-"))
        if self._account is not None:
            os.chown(self.root, self._account.pw_uid, self._account.pw_gid)
        try:
            self._run("initdb", "--pgdata", str(self.data_dir), "--username", "postgres", "--auth", "trust",
                      "--encoding", "UTF8", "--locale", "C", "--no-sync", timeout_s=120)
            with (self.data_dir / "postgresql.conf").open("a") as conf:
                conf.write(SERVER_CONF)
            for attempt in range(1, STARTS_TRIED + 1):
                self.port = free_port()
                if self._start_server(attempt == STARTS_TRIED):
                    break
        except BaseException:
            self._remove_root()
            raise
        self.startup_s = time.monotonic() - started
        return self

    def stop(self) -> None:
        if self.root is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            # immediate: no shutdown checkpoint, the folder is deleted next
            self._run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "--mode", "immediate", "--wait",
                      timeout_s=START_TIMEOUT_S, check=False)
        self._remove_root()

    def pause(self) -> None:
        """Stop the server but keep its data: connections are refused until `resume`."""
        self._run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "--mode", "fast", "--wait",
                  timeout_s=START_TIMEOUT_S)

    def resume(self) -> None:
        """Start a paused server again on the same port."""
        self._start_server(last_try=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_server(self, last_try: bool) -> bool:
        log = self.root / f"server-{self.port}.log"
        done = self._run("pg_ctl", "start", "--pgdata", str(self.data_dir), "--options", f"-p {self.port}",
                         "--log", str(log), "--wait", "--timeout", str(START_TIMEOUT_S),
                         timeout_s=START_TIMEOUT_S + 10, check=False)
        if done.returncode == 0:
            return True
        if last_try:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed on port {self.port}:\n{done.stdout}{done.stderr}{tail}")
        return False

    def _run(self, program: str, *args: str, timeout_s: float, check: bool = True) -> subprocess.CompletedProcess:
        user: dict[str, Any] = {}
        if self._account is not None:
            user = {"user": self._account.pw_uid, "group": self._account.pw_gid, "extra_groups": []}
        done = subprocess.run([str(self.bin_dir / program), *args], cwd=self.root, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout_s, **user)
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def _remove_root(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None


@contextmanager
def fresh_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A new empty database on `admin_url`'s server, dropped (connections and all) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
