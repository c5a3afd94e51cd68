"""Local accounts: scrypt hashes, both stores, the Basic-auth authenticator."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import psycopg
import pytest

from core.auth import Identity, LocalAccountsAuth, OpenAccess, PostgresAccountStore, SqliteAccountStore
from core.auth.accounts import AccountStore
from core.auth.passwords import hash_password, verify_password
from core.errors import InvalidRequest, Unauthenticated
from core.jobs.postgres_store import open_pool


def basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


def test_a_password_hash_verifies_only_its_password_and_is_salted():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert hash_password("correct horse") != stored


@pytest.mark.parametrize("stored", ["", "plain", "bcrypt$1$2$3$4$5", "scrypt$x$8$1$AAAA$AAAA"])
def test_a_malformed_hash_never_verifies(stored):
    assert not verify_password("anything", stored)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])])
def accounts(request, tmp_path) -> Iterator[AccountStore]:
    if request.param == "sqlite":
        store: AccountStore = SqliteAccountStore(tmp_path / "jobs.sqlite3")
        yield store
        store.close()
        return
    pg_url = request.getfixturevalue("pg_url")
    store = PostgresAccountStore(open_pool(pg_url, max_size=2), owns_pool=True)
    yield store
    store.close()
    # the session database is shared: an account left there would switch later apps to sign-in
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("TRUNCATE tenkaigen_users, login_failures")


def test_an_account_authenticates_with_its_password_only(accounts):
    accounts.add("alice", "s3cret-pass", is_admin=True)
    accounts.add("bob", "another-pass")
    assert accounts.count() == 2
    alice = accounts.authenticate("alice", "s3cret-pass")
    assert alice is not None and alice.is_admin
    assert accounts.authenticate("bob", "another-pass").is_admin is False
    assert accounts.authenticate("alice", "another-pass") is None
    assert accounts.authenticate("carol", "s3cret-pass") is None


def test_a_taken_name_a_bad_name_and_a_short_password_are_refused(accounts):
    accounts.add("alice", "s3cret-pass")
    with pytest.raises(InvalidRequest, match="already exists"):
        accounts.add("alice", "other-pass-1")
    with pytest.raises(InvalidRequest, match="account name"):
        accounts.add("../etc", "s3cret-pass")
    with pytest.raises(InvalidRequest, match="at least 8"):
        accounts.add("carol", "short")


def test_basic_credentials_name_the_account_and_wrong_ones_are_unauthenticated(accounts):
    accounts.add("alice", "s3cret-pass", is_admin=True)
    auth = LocalAccountsAuth(accounts)
    identity = auth.authenticate(basic("alice", "s3cret-pass"))
    assert (identity.user_id, identity.is_admin) == ("alice", True)
    assert auth.authenticate(basic("alice", "s3cret-pass")) == identity  # cached path
    for header in [None, "", basic("alice", "wrong-pass"), "Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()]:
        with pytest.raises(Unauthenticated) as refused:
            auth.authenticate(header)
        assert refused.value.scheme == "Basic"


def test_the_studio_login_checks_the_same_accounts(accounts):
    accounts.add("alice", "s3cret-pass")
    auth = LocalAccountsAuth(accounts)
    assert auth.login("alice", "s3cret-pass") and not auth.login("alice", "nope-nope")
    assert auth.user_id_for("alice") == "alice"


def test_a_studio_session_carries_its_accounts_admin_role(accounts):
    accounts.add("alice", "s3cret-pass")
    accounts.add("root", "adm1n-pass", is_admin=True)
    auth = LocalAccountsAuth(accounts)
    assert auth.login("alice", "s3cret-pass") and auth.login("root", "adm1n-pass")
    assert auth.identity_for("alice") == Identity(user_id="alice", is_admin=False, name="alice")
    assert auth.identity_for("root").is_admin


def test_a_studio_session_that_never_signed_in_has_no_identity(accounts):
    auth = LocalAccountsAuth(accounts)
    with pytest.raises(Unauthenticated):
        auth.identity_for("mallory")


def test_open_access_makes_every_request_the_local_admin():
    identity = OpenAccess("local").authenticate(None)
    assert (identity.user_id, identity.is_admin) == ("local", True)
