"""Sign-in throttling: backoff per account and per address, in the jobs database, before any hash."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.auth import LocalAccountsAuth, PostgresAccountStore, SqliteAccountStore, SupabaseAuth
from core.auth.accounts import Account, AccountStore
from core.auth.supabase import SupabasePasswordLogin, SupabaseTokenVerifier
from core.auth.throttle import LoginThrottle, ThrottlePolicy, client_address
from core.errors import LoginThrottled, Unauthenticated
from core.jobs.postgres_store import open_pool
from tests.support.apps import make_settings
from tests.support.servers import LiveServer
from tests.support.tokens import FakeGoTrue

POLICY = ThrottlePolicy(free_failures=5, free_failures_per_address=20, first_delay_s=1.0, max_delay_s=900.0,
                        forget_after_s=3600.0)


def basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingAccounts:
    """An account store that counts the password checks (the scrypt hashes) it makes."""

    def __init__(self, inner: AccountStore) -> None:
        self.inner = inner
        self.checks = 0

    def authenticate(self, name: str, password: str) -> Account | None:
        self.checks += 1
        return self.inner.authenticate(name, password)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


def _open_store(kind: str, where: str) -> AccountStore:
    if kind == "sqlite":
        return SqliteAccountStore(where)
    return PostgresAccountStore(open_pool(where, max_size=2), owns_pool=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])])
def database(request, tmp_path) -> Iterator[tuple[str, object]]:
    """Where the accounts live: a SQLite file, or the session's Postgres database (emptied after)."""
    if request.param == "sqlite":
        yield "sqlite", tmp_path / "jobs.sqlite3"
        return
    pg_url = request.getfixturevalue("pg_url")
    yield "postgres", pg_url
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("TRUNCATE tenkaigen_users, login_failures")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(database) -> Iterator[AccountStore]:
    store = _open_store(*database)
    store.add("alice", "alice-pass-1")
    store.add("bob", "bob-pass-12")
    yield store
    store.close()


def throttled_auth(accounts: AccountStore, clock: Clock) -> LocalAccountsAuth:
    return LocalAccountsAuth(accounts, LoginThrottle(accounts.login_failures(), POLICY, clock=clock))


def fail(auth: LocalAccountsAuth, name: str, times: int, address: str = "203.0.113.7") -> None:
    token = client_address.set(address)
    try:
        for _ in range(times):
            with pytest.raises(Unauthenticated):
                auth.authenticate(basic(name, "wrong-guess"))
    finally:
        client_address.reset(token)


def test_after_five_wrong_passwords_even_the_right_one_waits_until_the_lock_expires(accounts, clock):
    auth = throttled_auth(accounts, clock)
    fail(auth, "alice", 5)
    # the sixth failure locks for 1 s
    fail(auth, "alice", 1)
    with pytest.raises(LoginThrottled) as throttled:
        auth.authenticate(basic("alice", "alice-pass-1"))
    assert throttled.value.retry_after_s == 1
    assert not auth.login("alice", "alice-pass-1")  # the studio's form simply refuses
    clock.advance(1.01)
    assert auth.authenticate(basic("alice", "alice-pass-1")).user_id == "alice"


def test_each_further_failure_doubles_the_wait_up_to_the_cap(accounts, clock):
    auth = throttled_auth(accounts, clock)
    fail(auth, "alice", 5)
    waits = []
    for _ in range(14):
        fail(auth, "alice", 1)
        with pytest.raises(LoginThrottled) as throttled:
            auth.authenticate(basic("alice", "wrong-guess"))
        waits.append(throttled.value.retry_after_s)
        clock.advance(throttled.value.retry_after_s)
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]


def test_a_throttled_guess_costs_no_password_hash(accounts, clock):
    counting = CountingAccounts(accounts)
    auth = throttled_auth(counting, clock)
    fail(auth, "alice", 6)
    checks = counting.checks
    for _ in range(10):
        with pytest.raises(LoginThrottled):
            auth.authenticate(basic("alice", "another-guess"))
    assert counting.checks == checks


def test_a_locked_account_leaves_other_accounts_alone(accounts, clock):
    auth = throttled_auth(accounts, clock)
    fail(auth, "alice", 6)
    assert auth.authenticate(basic("bob", "bob-pass-12")).user_id == "bob"
    assert auth.login("bob", "bob-pass-12")


def test_a_successful_sign_in_resets_the_accounts_count(accounts, clock):
    auth = throttled_auth(accounts, clock)
    fail(auth, "alice", 5)
    assert auth.login("alice", "alice-pass-1")
    fail(auth, "alice", 5)  # five free failures again, no lock
    assert auth.login("alice", "alice-pass-1")


def test_one_address_guessing_many_names_is_throttled_and_other_addresses_are_not(accounts, clock):
    auth = throttled_auth(accounts, clock)
    for n in range(21):  # 20 free failures for an address, one name each (never an account lock)
        fail(auth, f"user{n}", 1, address="198.51.100.9")
    token = client_address.set("198.51.100.9")
    try:
        with pytest.raises(LoginThrottled):
            auth.authenticate(basic("bob", "bob-pass-12"))
    finally:
        client_address.reset(token)
    token = client_address.set("192.0.2.1")
    try:
        assert auth.authenticate(basic("bob", "bob-pass-12")).user_id == "bob"
    finally:
        client_address.reset(token)


def test_the_counts_are_shared_by_two_stores_on_the_same_database(database, clock):
    first, second = _open_store(*database), _open_store(*database)
    try:
        first.add("alice", "alice-pass-1")
        fail(throttled_auth(first, clock), "alice", 6)
        with pytest.raises(LoginThrottled):
            throttled_auth(second, clock).authenticate(basic("alice", "alice-pass-1"))
    finally:
        first.close()
        second.close()


def test_old_failures_are_forgotten(accounts, clock):
    auth = throttled_auth(accounts, clock)
    fail(auth, "alice", 5)
    clock.advance(POLICY.forget_after_s + 1)
    fail(auth, "alice", 5)  # counted from zero again: still free
    assert auth.login("alice", "alice-pass-1")


def test_a_throttled_sign_in_is_logged_once_with_a_sanitised_name_and_no_password(accounts, clock, caplog):
    auth = throttled_auth(accounts, clock)
    name = "alice\nINFO forged line"
    fail(auth, name, 6)
    with caplog.at_level(logging.WARNING, logger="core.auth.throttle"):
        with pytest.raises(LoginThrottled):
            auth.authenticate(basic(name, "secret-guess"))
    [record] = [r for r in caplog.records if "throttled" in r.getMessage()]
    assert "\n" not in record.getMessage() and "alice\\nINFO forged line" in record.getMessage()
    assert "secret-guess" not in caplog.text and "wrong-guess" not in caplog.text


@pytest.fixture
def local_app(tmp_path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path)
    store = SqliteAccountStore(settings.sqlite_path)
    store.add("alice", "alice-pass-1")
    store.add("bob", "bob-pass-12")
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client


def test_the_api_answers_a_throttled_attempt_429_with_retry_after(local_app):
    wrong = {"Authorization": basic("alice", "wrong-guess")}
    assert [local_app.get("/api/me", headers=wrong).status_code for _ in range(6)] == [401] * 6
    refused = local_app.get("/api/me", headers={"Authorization": basic("alice", "alice-pass-1")})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {"detail": "too many failed sign-ins: try again in 1 s"}
    assert local_app.get("/api/me", headers={"Authorization": basic("bob", "bob-pass-12")}).status_code == 200


def test_the_studio_login_form_refuses_a_throttled_attempt(local_app):
    for _ in range(6):
        assert local_app.post("/login", data={"username": "alice", "password": "wrong-guess"}).status_code == 400
    # the right password, while throttled: Gradio's "Incorrect credentials", no session
    refused = local_app.post("/login", data={"username": "alice", "password": "alice-pass-1"})
    assert refused.status_code == 400 and "success" not in refused.text
    assert local_app.post("/login", data={"username": "bob", "password": "bob-pass-12"}).json() == {"success": True}


def test_the_supabase_password_grant_is_throttled_before_supabase_is_asked(tmp_path, clock):
    gotrue = FakeGoTrue(users={"ana@example.com": ("pass-word-1", "6f1c9a52-3b7e-4c1d-9a8e-2f4b5c6d7e80")})
    store = SqliteAccountStore(tmp_path / "jobs.sqlite3")
    with LiveServer(gotrue.app()) as server:
        verifier = SupabaseTokenVerifier(supabase_url=server.url, timeout_s=5)
        throttle = LoginThrottle(store.login_failures(), POLICY, clock=clock)
        auth = SupabaseAuth(verifier, SupabasePasswordLogin(server.url, "anon-key", verifier, timeout_s=5, throttle=throttle))
        assert not any(auth.login("ana@example.com", "wrong") for _ in range(6))
        grants = gotrue.password_grants
        assert not auth.login("ANA@example.com", "pass-word-1")  # throttled; emails ignore case
        assert gotrue.password_grants == grants
        clock.advance(1.01)
        assert auth.login("ana@example.com", "pass-word-1")
    store.close()
