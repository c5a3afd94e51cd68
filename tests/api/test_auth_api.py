"""Who may call what: accounts, Supabase tokens, ownership (404) and the admin role (403)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.auth import SqliteAccountStore
from tests.support.apps import make_settings
from tests.support.servers import LiveServer, free_port
from tests.support.tokens import SUPABASE_TEST_SECRET, hs256_token

JOB = {"prompt": "a red fox", "style": "anime", "product": "mug"}
ADMIN_SUB = "aaaaaaaa-0000-4000-8000-00000000000a"  # Supabase user ids are UUIDs


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def bearer(**claims) -> dict[str, str]:
    return {"Authorization": "Bearer " + hs256_token(**claims)}


@pytest.fixture
def local_client(tmp_path) -> Iterator[TestClient]:
    """auto mode with accounts present: sign-in is on."""
    settings = make_settings(tmp_path)
    accounts = SqliteAccountStore(settings.sqlite_path)
    accounts.add("alice", "alice-pass-1")
    accounts.add("bob", "bob-pass-12")
    accounts.add("root", "root-pass-1", is_admin=True)
    accounts.close()
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def supabase_client(tmp_path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, SUPABASE_JWT_SECRET=SUPABASE_TEST_SECRET, TENKAIGEN_ADMIN_USERS=ADMIN_SUB)
    with TestClient(create_app(settings)) as client:
        yield client


def test_without_accounts_or_supabase_everyone_is_the_local_user(tmp_path):
    with TestClient(create_app(make_settings(tmp_path))) as client:
        me = client.get("/api/me").json()
        assert (me["user_id"], me["is_admin"], me["auth"]) == ("local", True, "none")
        assert client.post("/api/generate", json=JOB).status_code == 202
        assert client.get("/").status_code == 200  # the studio needs no login


def test_with_accounts_the_api_needs_basic_credentials(local_client):
    refused = local_client.post("/api/generate", json=JOB)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Basic realm="TenkaiGen"'
    assert local_client.post("/api/generate", json=JOB, headers=basic("alice", "wrong-pass")).status_code == 401
    assert local_client.post("/api/parse-prompt", json=JOB).status_code == 401
    assert local_client.post("/api/generate", json=JOB, headers=basic("alice", "alice-pass-1")).status_code == 202
    assert local_client.get("/api/me", headers=basic("alice", "alice-pass-1")).json()["auth"] == "local"
    # what is not personal stays open
    assert local_client.get("/api/health").status_code == 200
    assert local_client.get("/api/styles").status_code == 200


def test_another_users_job_does_not_exist_for_them(local_client):
    alice, bob = basic("alice", "alice-pass-1"), basic("bob", "bob-pass-12")
    job_id = local_client.post("/api/generate", json=JOB, headers=alice).json()["job_id"]
    assert local_client.get(f"/api/generate/status/{job_id}", headers=alice).status_code == 200
    stranger = local_client.get(f"/api/generate/status/{job_id}", headers=bob)
    assert stranger.status_code == 404
    assert stranger.json() == {"detail": f"job {job_id} not found"}  # same answer as an unknown id
    assert local_client.post(f"/api/generate/{job_id}/cancel", headers=bob).status_code == 404
    assert local_client.get("/api/generate/jobs", headers=bob).json()["jobs"] == []
    assert [j["job_id"] for j in local_client.get("/api/generate/jobs", headers=alice).json()["jobs"]] == [job_id]


def test_the_admin_routes_need_the_admin_role(local_client):
    assert local_client.get("/api/admin/users/alice/quota").status_code == 401
    forbidden = local_client.get("/api/admin/users/alice/quota", headers=basic("alice", "alice-pass-1"))
    assert forbidden.status_code == 403 and "admin" in forbidden.json()["detail"]
    allowed = local_client.get("/api/admin/users/alice/quota", headers=basic("root", "root-pass-1"))
    assert allowed.status_code == 200 and allowed.json()["per_minute"] == 10


def test_the_studio_asks_for_a_login_when_accounts_exist(local_client):
    config = local_client.get("/config")
    assert config.status_code == 401 or config.json().get("auth_required") is True
    bad = local_client.post("/login", data={"username": "alice", "password": "nope-nope"})
    assert bad.status_code == 400
    good = local_client.post("/login", data={"username": "alice", "password": "alice-pass-1"})
    assert good.status_code == 200 and good.json() == {"success": True}


def test_supabase_tokens_name_the_user_and_bad_ones_are_401(supabase_client):
    user = bearer(sub="11111111-0000-4000-8000-000000000001")
    job_id = supabase_client.post("/api/generate", json=JOB, headers=user).json()["job_id"]
    assert supabase_client.get(f"/api/generate/status/{job_id}", headers=user).status_code == 200
    other = bearer(sub="22222222-0000-4000-8000-000000000002")
    assert supabase_client.get(f"/api/generate/status/{job_id}", headers=other).status_code == 404
    for headers in [{}, bearer(expires_in_s=-60), bearer(secret="a-forged-secret-of-thirty-two-chars!!"),
                    bearer(aud="anon"), basic("alice", "alice-pass-1")]:
        response = supabase_client.get(f"/api/generate/status/{job_id}", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_supabase_token_whose_subject_is_a_path_is_401_and_stores_nothing(supabase_client):
    response = supabase_client.post("/api/generate", json=JOB, headers=bearer(sub="../x"))
    assert response.status_code == 401 and "UUID" in response.json()["detail"]
    assert supabase_client.app.state.services.generation.history("../x") == []


def test_supabase_admins_come_from_app_metadata_or_the_admin_list(supabase_client):
    path = "/api/admin/users/anyone/quota"
    assert supabase_client.get(path, headers=bearer(sub="33333333-0000-4000-8000-000000000003")).status_code == 403
    assert supabase_client.get(path, headers=bearer(sub=ADMIN_SUB)).status_code == 200
    assert supabase_client.get(path, headers=bearer(app_metadata={"role": "admin"})).status_code == 200


@pytest.mark.slow
def test_a_studio_session_creates_jobs_as_its_signed_in_user(tmp_path):
    from gradio_client import Client

    port = free_port()
    settings = make_settings(tmp_path, TENKAIGEN_PUBLIC_URL=f"http://127.0.0.1:{port}")
    accounts = SqliteAccountStore(settings.sqlite_path)
    accounts.add("alice", "alice-pass-1")
    accounts.close()
    app = create_app(settings)
    with LiveServer(app, port=port) as server:
        client = Client(server.url, auth=("alice", "alice-pass-1"), verbose=False)
        status, *_images = client.predict(prompt="a red fox", style="anime", product="sticker", api_name="/generate")
        jobs = app.state.services.generation.history("alice")
        assert app.state.services.generation.history("local") == []
    assert "Done" in status
    assert len(jobs) == 1 and jobs[0].status == "completed"
