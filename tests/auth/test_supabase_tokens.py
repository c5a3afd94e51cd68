"""Supabase access tokens: signature, expiry, audience, subject; HS256 and JWKS."""

from __future__ import annotations

import time

import jwt
import pytest

from core.auth import SupabaseAuth, SupabasePasswordLogin, SupabaseTokenVerifier
from core.errors import Unauthenticated
from tests.support.servers import LiveServer, free_port
from tests.support.tokens import SUPABASE_TEST_SECRET, FakeGoTrue, hs256_token, supabase_claims


@pytest.fixture
def verifier() -> SupabaseTokenVerifier:
    return SupabaseTokenVerifier(jwt_secret=SUPABASE_TEST_SECRET, admin_users={"ops@example.com"})


def test_a_valid_token_names_its_subject(verifier):
    identity = verifier.verify(hs256_token(sub="7d5c0c6e-0000-4000-8000-000000000001"))
    assert identity.user_id == "7d5c0c6e-0000-4000-8000-000000000001" and not identity.is_admin


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (hs256_token(expires_in_s=-120), "expired"),
        (hs256_token(secret="another-secret-that-is-also-32-chars-long!"), "Signature verification failed"),
        (hs256_token(aud="anon"), "(?i)audience"),
        (jwt.encode({k: v for k, v in supabase_claims().items() if k != "exp"}, SUPABASE_TEST_SECRET, algorithm="HS256"), "exp"),
        (jwt.encode({k: v for k, v in supabase_claims().items() if k != "sub"}, SUPABASE_TEST_SECRET, algorithm="HS256"), "sub"),
        (jwt.encode(supabase_claims(), key=None, algorithm="none"), "algorithm"),
        ("not.a.jwt", "rejected"),
    ],
    ids=["expired", "forged", "wrong-audience", "no-expiry", "no-subject", "alg-none", "garbage"],
)
def test_a_bad_token_is_unauthenticated(verifier, token, reason):
    with pytest.raises(Unauthenticated, match=reason):
        verifier.verify(token)


def test_the_admin_role_comes_from_app_metadata_or_the_admin_list(verifier):
    assert verifier.verify(hs256_token(app_metadata={"role": "admin"})).is_admin
    assert verifier.verify(hs256_token(email="ops@example.com")).is_admin
    # a user cannot make themselves admin through user_metadata
    assert not verifier.verify(hs256_token(user_metadata={"role": "admin"})).is_admin


def test_the_bearer_scheme_is_required(verifier):
    auth = SupabaseAuth(verifier, None)
    sub = "0a0b0c0d-0000-4000-8000-000000000001"
    assert auth.authenticate("Bearer " + hs256_token(sub=sub)).user_id == sub
    for header in [None, "Basic abc", "Bearer ", hs256_token()]:
        with pytest.raises(Unauthenticated):
            auth.authenticate(header)


@pytest.mark.slow
def test_jwks_signed_tokens_verify_with_the_keys_fetched_once_from_the_project():
    gotrue = FakeGoTrue()
    with LiveServer(gotrue.app()) as server:
        verifier = SupabaseTokenVerifier(supabase_url=server.url, timeout_s=5)
        first, again = "0a0b0c0d-0000-4000-8000-0000000000a1", "0a0b0c0d-0000-4000-8000-0000000000a2"
        assert verifier.verify(gotrue.token(sub=first)).user_id == first
        assert verifier.verify(gotrue.token(sub=again)).user_id == again
        assert gotrue.jwks_fetches == 1  # cached
        other = FakeGoTrue()
        forged = jwt.encode(supabase_claims(), other.key, algorithm="RS256", headers={"kid": gotrue.kid})
        with pytest.raises(Unauthenticated):
            verifier.verify(forged)
        # an HS256 token is refused when only JWKS is configured (no key confusion)
        with pytest.raises(Unauthenticated, match="algorithm"):
            verifier.verify(hs256_token())


def test_an_unreachable_jwks_endpoint_is_unauthenticated_within_the_timeout():
    verifier = SupabaseTokenVerifier(supabase_url=f"http://127.0.0.1:{free_port()}", timeout_s=2)
    started = time.monotonic()
    with pytest.raises(Unauthenticated, match="signing keys"):
        verifier.verify(FakeGoTrue().token())
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_the_studio_signs_in_with_the_password_grant_and_knows_the_subject():
    ana = "0a0b0c0d-0000-4000-8000-0000000000a7"
    gotrue = FakeGoTrue(users={"ana@example.com": ("pass-word-1", ana)})
    with LiveServer(gotrue.app()) as server:
        verifier = SupabaseTokenVerifier(supabase_url=server.url, timeout_s=5)
        auth = SupabaseAuth(verifier, SupabasePasswordLogin(server.url, "anon-key", verifier, timeout_s=5))
        assert not auth.login("ana@example.com", "wrong")
        with pytest.raises(Unauthenticated):
            auth.user_id_for("ana@example.com")
        assert auth.login("ana@example.com", "pass-word-1")
        assert auth.user_id_for("ana@example.com") == ana
