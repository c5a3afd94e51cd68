"""User ids become folders in the object store: every way in makes only safe ones."""

from __future__ import annotations

import pytest

from core.auth import OpenAccess, SqliteAccountStore, SupabaseAuth, SupabaseTokenVerifier
from core.errors import InvalidRequest, Unauthenticated
from tests.support.tokens import SUPABASE_TEST_SECRET, hs256_token

NOT_UUIDS = ["../x", "../../etc", "a/b", "user-1", "7d5c0c6e-0000-4000-8000-00000000000/", "7d5c0c6e-0000-4000-8000-000000000001\n"]


@pytest.mark.parametrize("sub", NOT_UUIDS)
def test_a_supabase_token_whose_subject_is_not_a_uuid_is_unauthenticated(sub):
    auth = SupabaseAuth(SupabaseTokenVerifier(jwt_secret=SUPABASE_TEST_SECRET), None)
    with pytest.raises(Unauthenticated, match="UUID"):
        auth.authenticate("Bearer " + hs256_token(sub=sub))


def test_a_supabase_subject_that_is_a_uuid_is_the_user_id_as_given():
    verifier = SupabaseTokenVerifier(jwt_secret=SUPABASE_TEST_SECRET)
    sub = "7D5C0C6E-0000-4000-8000-00000000000A"
    assert verifier.verify(hs256_token(sub=sub)).user_id == sub


@pytest.mark.parametrize("name", ["a..b", "alice\n", "..", "al/ice", ".alice"])
def test_an_account_name_that_is_not_a_plain_user_id_is_refused(tmp_path, name):
    accounts = SqliteAccountStore(tmp_path / "jobs.sqlite3")
    try:
        with pytest.raises(InvalidRequest, match="account name"):
            accounts.add(name, "s3cret-pass")
        assert accounts.count() == 0
    finally:
        accounts.close()


@pytest.mark.parametrize("local_user", ["../x", "a/b", "", "a..b"])
def test_open_access_refuses_a_local_user_that_is_not_a_user_id(local_user):
    with pytest.raises(ValueError, match="TENKAIGEN_LOCAL_USER"):
        OpenAccess(local_user)


def test_open_access_takes_a_plain_local_user():
    assert OpenAccess("studio.owner@example.com").authenticate(None).user_id == "studio.owner@example.com"
