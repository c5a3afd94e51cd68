"""How a request proves who it is, one class per mode (TENKAIGEN_AUTH).

- `OpenAccess` ("none"): no login; every request is the local user, who is also the admin.
  The zero-config default while no account exists and Supabase is not configured.
- `LocalAccountsAuth` ("local"): accounts in the jobs database; the API takes HTTP Basic,
  the studio its login form.
- `SupabaseAuth` ("supabase"): the API takes `Authorization: Bearer <Supabase access
  token>`; the studio signs in with Supabase's password grant.

Every password check is throttled (core/auth/throttle.py): the API answers a throttled
attempt with LoginThrottled (429); the studio's login form simply refuses it, since
Gradio's login function can only say yes or no.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from typing import Protocol

from core.auth.accounts import Account, AccountStore
from core.auth.identity import Identity, is_valid_user_id
from core.auth.supabase import SupabasePasswordLogin, SupabaseTokenVerifier
from core.auth.throttle import LoginThrottle
from core.errors import LoginThrottled, Unauthenticated


class Authenticator(Protocol):
    mode: str
    requires_login: bool
    # whether `authenticate` may block (a password hash, a key fetch): the API then calls it
    # off the event loop; one that only compares in memory is called inline
    blocks: bool

    def authenticate(self, authorization: str | None) -> Identity:
        """The caller named by an `Authorization` header value; Unauthenticated otherwise."""
        ...

    def login(self, username: str, password: str) -> bool:
        """The studio's login form: True lets the session in as `username`."""
        ...

    def user_id_for(self, username: str) -> str:
        """The user id of a studio session that logged in as `username`."""
        ...

    def identity_for(self, username: str) -> Identity:
        """The identity (user id and admin role) of a studio session that logged in as
        `username`; Unauthenticated when no such session signed in."""
        ...


def _scheme_and_value(authorization: str | None, scheme: str) -> str:
    if not authorization:
        raise Unauthenticated("sign in required: send an Authorization header", scheme=scheme)
    given, _, value = authorization.strip().partition(" ")
    if given.lower() != scheme.lower() or not value.strip():
        raise Unauthenticated(f"expected 'Authorization: {scheme} ...'", scheme=scheme)
    return value.strip()


class OpenAccess:
    mode = "none"
    requires_login = False
    blocks = False

    def __init__(self, local_user: str) -> None:
        if not is_valid_user_id(local_user):
            raise ValueError(
                f"TENKAIGEN_LOCAL_USER={local_user!r} is not a valid user id: letters, digits and . _ @ -,"
                " starting with a letter or digit, without '..'"
            )
        self._identity = Identity(user_id=local_user, is_admin=True, name=local_user)

    def authenticate(self, authorization: str | None) -> Identity:
        return self._identity

    def login(self, username: str, password: str) -> bool:
        return True

    def user_id_for(self, username: str) -> str:
        return self._identity.user_id

    def identity_for(self, username: str) -> Identity:
        return self._identity


class LocalAccountsAuth:
    mode = "local"
    requires_login = True
    blocks = True
    # A scrypt check costs tens of milliseconds; an API client sends the same Basic header
    # on every call, so a verified one is remembered briefly (by its hash, in memory only).
    CACHE_TTL_S = 60.0
    CACHE_MAX = 1024

    def __init__(self, accounts: AccountStore, throttle: LoginThrottle | None = None) -> None:
        self._accounts = accounts
        self._throttle = throttle or LoginThrottle(accounts.login_failures())
        self._verified: dict[bytes, tuple[Account, float]] = {}
        self._signed_in: dict[str, Account] = {}  # studio logins, for their admin role
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None) -> Identity:
        value = _scheme_and_value(authorization, "Basic")
        try:
            name, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Unauthenticated("malformed Basic credentials", scheme="Basic") from exc
        if not sep:
            raise Unauthenticated("malformed Basic credentials", scheme="Basic")
        account = self._check(name, password)
        if account is None:
            raise Unauthenticated("wrong account name or password", scheme="Basic")
        return Identity(user_id=account.name, is_admin=account.is_admin, name=account.name)

    def login(self, username: str, password: str) -> bool:
        try:
            account = self._check(username, password)
        except LoginThrottled:
            return False
        if account is None:
            return False
        with self._lock:
            self._signed_in[account.name] = account
        return True

    def user_id_for(self, username: str) -> str:
        return username

    def identity_for(self, username: str) -> Identity:
        with self._lock:
            account = self._signed_in.get(username)
        if account is None:
            raise Unauthenticated("this studio session is not signed in; reload and sign in again")
        return Identity(user_id=account.name, is_admin=account.is_admin, name=account.name)

    def _check(self, name: str, password: str) -> Account | None:
        # before the cache too: a remembered header must not answer a throttled guess
        self._throttle.check(name)
        key = hashlib.sha256(f"{name}\0{password}".encode()).digest()
        now = time.monotonic()
        with self._lock:
            cached = self._verified.get(key)
        if cached and cached[1] > now:
            return cached[0]
        account = self._accounts.authenticate(name, password)
        if account is None:
            self._throttle.failed(name)
        else:
            self._throttle.succeeded(name)
            with self._lock:
                if len(self._verified) >= self.CACHE_MAX:
                    self._verified.clear()
                self._verified[key] = (account, now + self.CACHE_TTL_S)
        return account


class SupabaseAuth:
    mode = "supabase"
    requires_login = True
    blocks = True

    def __init__(self, verifier: SupabaseTokenVerifier, password_login: SupabasePasswordLogin | None) -> None:
        self._verifier = verifier
        self._password_login = password_login

    def authenticate(self, authorization: str | None) -> Identity:
        return self._verifier.verify(_scheme_and_value(authorization, "Bearer"))

    def login(self, username: str, password: str) -> bool:
        # without SUPABASE_ANON_KEY the studio cannot sign anyone in
        try:
            return self._password_login is not None and self._password_login.login(username, password) is not None
        except LoginThrottled:
            return False

    def user_id_for(self, username: str) -> str:
        return self.identity_for(username).user_id

    def identity_for(self, username: str) -> Identity:
        identity = self._password_login.identity_of(username) if self._password_login else None
        if identity is None:
            raise Unauthenticated("this studio session is not signed in; reload and sign in again")
        return identity
