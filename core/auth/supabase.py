"""Supabase access tokens: verified locally (HS256 project secret, or the project's JWKS).

A Supabase access token is a JWT whose `sub` is the user's id, `aud` is "authenticated"
and `exp` its expiry. Projects on the legacy shared secret sign with HS256
(`SUPABASE_JWT_SECRET`); projects on asymmetric signing keys publish them at
`{SUPABASE_URL}/auth/v1/.well-known/jwks.json`, fetched with a timeout and cached.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

import httpx
import jwt

from core.auth.identity import SUPABASE_USER_ID, Identity
from core.auth.throttle import LoginThrottle
from core.errors import Unauthenticated

log = logging.getLogger(__name__)

AUDIENCE = "authenticated"
ASYMMETRIC_ALGORITHMS = ["RS256", "ES256", "EdDSA"]
JWKS_CACHE_S = 600
LEEWAY_S = 10  # clock skew between Supabase and this host


def jwks_url(supabase_url: str) -> str:
    return supabase_url.rstrip("/") + "/auth/v1/.well-known/jwks.json"


class SupabaseTokenVerifier:
    """Turns a Supabase access token into an Identity, or raises Unauthenticated."""

    def __init__(
        self,
        *,
        jwt_secret: str | None = None,
        supabase_url: str | None = None,
        admin_users: Collection[str] = (),
        timeout_s: float = 10.0,
    ) -> None:
        if not jwt_secret and not supabase_url:
            raise ValueError("SupabaseTokenVerifier needs SUPABASE_JWT_SECRET or SUPABASE_URL")
        self._secret = jwt_secret
        self._jwks = (
            jwt.PyJWKClient(jwks_url(supabase_url), cache_jwk_set=True, lifespan=JWKS_CACHE_S, timeout=timeout_s)
            if supabase_url
            else None
        )
        self._admins = frozenset(admin_users)

    def verify(self, token: str) -> Identity:
        claims = self._claims(token)
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise Unauthenticated("access token has no subject")
        if not SUPABASE_USER_ID.fullmatch(sub):
            # the subject becomes a folder in the object store: only a Supabase user id (a UUID) will do
            raise Unauthenticated("access token's subject is not a Supabase user id (a UUID)")
        return Identity(user_id=sub, is_admin=self._is_admin(claims), name=claims.get("email") or sub)

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            if algorithm == "HS256" and self._secret:
                key: Any = self._secret
                algorithms = ["HS256"]
            elif self._jwks is not None and algorithm in ASYMMETRIC_ALGORITHMS:
                key = self._jwks.get_signing_key_from_jwt(token)
                algorithms = ASYMMETRIC_ALGORITHMS
            else:
                raise Unauthenticated(f"access token signed with an unaccepted algorithm ({algorithm})")
            return jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=AUDIENCE,
                leeway=LEEWAY_S,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("access token expired") from exc
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("jwks fetch failed error=%s", exc)
            raise Unauthenticated("could not fetch the signing keys to check the access token") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"access token rejected: {exc}") from exc

    def _is_admin(self, claims: dict[str, Any]) -> bool:
        app_metadata = claims.get("app_metadata") or {}
        if isinstance(app_metadata, dict) and app_metadata.get("role") == "admin":
            return True
        return claims.get("sub") in self._admins or claims.get("email") in self._admins


class SupabasePasswordLogin:
    """Signs a studio user in with Supabase's password grant and verifies the token it gets.

    The studio's login form gives an email and a password; Gradio then only knows the
    email, so the identity is remembered here (per process, as Gradio's sessions are).
    """

    def __init__(self, supabase_url: str, anon_key: str, verifier: SupabaseTokenVerifier, timeout_s: float = 10.0,
                 throttle: LoginThrottle | None = None) -> None:
        self._throttle = throttle
        self._url = supabase_url.rstrip("/") + "/auth/v1/token?grant_type=password"
        self._anon_key = anon_key
        self._verifier = verifier
        self._timeout_s = timeout_s
        self._identities: dict[str, Identity] = {}

    def login(self, email: str, password: str) -> Identity | None:
        """The signed-in identity, or None; LoginThrottled (before Supabase is asked) while
        the email or the caller's address must wait."""
        if self._throttle:
            self._throttle.check(email)
        try:
            response = httpx.post(
                self._url,
                json={"email": email, "password": password},
                headers={"apikey": self._anon_key},
                timeout=self._timeout_s,
            )
        except httpx.HTTPError as exc:
            log.warning("supabase sign-in unreachable error=%s", exc)
            return None
        if response.status_code != 200:
            # Supabase refused the credentials (its own rate limit, 429, is no guess of ours)
            if self._throttle and 400 <= response.status_code < 500 and response.status_code != 429:
                self._throttle.failed(email)
            return None
        try:
            identity = self._verifier.verify(response.json()["access_token"])
        except (Unauthenticated, KeyError, ValueError):
            return None
        if self._throttle:
            self._throttle.succeeded(email)
        self._identities[email] = identity
        return identity

    def identity_of(self, email: str) -> Identity | None:
        return self._identities.get(email)
