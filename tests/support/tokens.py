"""Supabase-shaped access tokens for tests (what GoTrue issues), and a fake GoTrue server."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

SUPABASE_TEST_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"


def supabase_claims(sub: str | None = None, expires_in_s: int = 3600, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": sub or str(uuid.uuid4()),
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + expires_in_s,
        "email": "designer@example.com",
        "app_metadata": {"provider": "email"},
    }
    claims.update(extra)
    return claims


def hs256_token(secret: str = SUPABASE_TEST_SECRET, **claims: Any) -> str:
    return jwt.encode(supabase_claims(**claims), secret, algorithm="HS256")


class FakeGoTrue:
    """Supabase Auth on loopback: the JWKS endpoint and the password grant, RS256-signed."""

    def __init__(self, users: dict[str, tuple[str, str]] | None = None) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:8]
        self.users = users or {}  # email -> (password, sub)
        self.jwks_fetches = 0
        self.password_grants = 0

    def token(self, **claims: Any) -> str:
        return jwt.encode(supabase_claims(**claims), self.key, algorithm="RS256", headers={"kid": self.kid})

    def app(self) -> FastAPI:
        api = FastAPI()
        public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public_jwk.update(kid=self.kid, alg="RS256", use="sig")

        @api.get("/auth/v1/.well-known/jwks.json")
        def jwks() -> dict[str, Any]:
            self.jwks_fetches += 1
            return {"keys": [public_jwk]}

        @api.post("/auth/v1/token")
        async def password_grant(request: Request) -> JSONResponse:
            if request.query_params.get("grant_type") != "password" or not request.headers.get("apikey"):
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            self.password_grants += 1
            body = await request.json()
            known = self.users.get(body.get("email", ""))
            if known is None or known[0] != body.get("password"):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            token = self.token(sub=known[1], email=body["email"])
            return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": 3600})

        return api
