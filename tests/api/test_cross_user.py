"""No door hands one user's job to another. Every HTTP route that takes a job id, and every
studio event that takes one, is called by bob with alice's job id: each answers exactly as for
an id that does not exist (404, or the studio's "not found"), and alice's job is untouched.

Both tables are checked against the app itself (its FastAPI routes, the studio's events), so a
new door without a case here fails this test.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import gradio as gr
import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.auth import Identity, SqliteAccountStore
from core.errors import JobNotFound
from core.jobs import JobStatus
from tests.support.apps import make_settings
from tests.support.servers import wait_until
from ui.context import StudioContext
from ui.files import StudioFiles
from ui.generate_handlers import GenerateHandlers
from ui.history_handlers import HistoryHandlers
from ui.print_handlers import PrintHandlers
from ui.publish_handlers import PublishHandlers
from ui.session_state import ShownJobs
from ui.studio import create_ui

SECRET_IDEA = "a red fox guarding alice's secret lighthouse"


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


ALICE, BOB = basic("alice", "alice-pass-1"), basic("bob", "bob-pass-12")


@dataclass
class World:
    client: TestClient
    alice_job: str


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    """alice and bob with accounts; alice has one completed job (the draft generator)."""
    settings = make_settings(tmp_path_factory.mktemp("cross-user"))
    accounts = SqliteAccountStore(settings.sqlite_path)
    accounts.add("alice", "alice-pass-1")
    accounts.add("bob", "bob-pass-12")
    accounts.close()
    with TestClient(create_app(settings)) as client:
        job_id = client.post("/api/generate", headers=ALICE,
                             json={"prompt": SECRET_IDEA, "style": "anime", "product": "mug"}).json()["job_id"]
        wait_until(lambda: client.get(f"/api/generate/status/{job_id}", headers=ALICE).json()["status"]
                   == "completed", what="alice's draft")
        yield World(client, job_id)


def assert_alice_job_untouched(world: World) -> None:
    service = world.client.app.state.services.generation
    job = service.jobs.get(world.alice_job)
    assert (job.user_id, job.status, job.favorite) == ("alice", JobStatus.COMPLETED, False)
    assert service.history("bob") == []
    assert [j.id for j in service.history("alice")] == [world.alice_job]


def assert_reveals_nothing(answer: str) -> None:
    assert "red fox" not in answer and "lighthouse" not in answer
    assert "completed" not in answer and "mug" not in answer


# --- HTTP ---------------------------------------------------------------------------------------
# every route with a job id in its path: (method, path) -> request keyword arguments
HTTP_CASES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/generate/status/{job_id}"): {},
    ("POST", "/api/generate/{job_id}/cancel"): {},
    ("POST", "/api/generate/{job_id}/print-file"): {},
    ("POST", "/api/generate/{job_id}/vector"): {},
    ("PUT", "/api/generate/{job_id}/favorite"): {"json": {"favorite": False}},
    ("DELETE", "/api/generate/{job_id}"): {},
    ("GET", "/api/generate/{job_id}/variants"): {},
    ("POST", "/api/generate/{job_id}/mockups"): {"json": {"variant_ids": [1320]}},
    ("GET", "/api/generate/{job_id}/mockups"): {},
    ("POST", "/api/generate/{job_id}/publish"): {"json": {"variant_ids": [1320], "retail_price": "24.00"}},
}
# routes that would change alice's job if she called them: her own call is not made here
# (tests/api/test_history_api.py has the owner deleting her job)
DESTRUCTIVE = {("DELETE", "/api/generate/{job_id}")}


# routes with a path parameter that is not a job: (method, path) -> what the parameter is
NOT_A_JOB: dict[tuple[str, str], str] = {
    ("GET", "/api/admin/users/{user_id}/quota"): "a user id, for admins only",
}


def routes_with_path_parameters(client: TestClient) -> set[tuple[str, str]]:
    """Every operation of the app's OpenAPI document that takes a path parameter."""
    paths = client.app.openapi()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method, operation in operations.items()
            if any(parameter["in"] == "path" for parameter in operation.get("parameters", []))}


def test_the_http_table_covers_every_route_that_takes_an_id(world):
    assert routes_with_path_parameters(world.client) == set(HTTP_CASES) | set(NOT_A_JOB)


@pytest.mark.parametrize(("method", "path"), list(HTTP_CASES))
def test_bob_asking_any_route_for_alices_job_gets_the_unknown_job_answer(world, method, path):
    client = world.client
    unknown = str(uuid.uuid4())
    answer = client.request(method, path.format(job_id=world.alice_job), headers=BOB, **HTTP_CASES[(method, path)])
    expected = client.request(method, path.format(job_id=unknown), headers=BOB, **HTTP_CASES[(method, path)])
    assert (answer.status_code, expected.status_code) == (404, 404)
    assert answer.json() == {"detail": f"job {world.alice_job} not found"}
    assert answer.text.replace(world.alice_job, unknown) == expected.text
    assert_reveals_nothing(answer.text)
    assert_alice_job_untouched(world)
    # alice is not told "not found" (it is the owner check that refused bob; a finished job cannot be canceled)
    if (method, path) not in DESTRUCTIVE:
        assert client.request(method, path.format(job_id=world.alice_job), headers=ALICE,
                              **HTTP_CASES[(method, path)]).status_code != 404


# --- the studio -----------------------------------------------------------------------------------
def select(index: int) -> gr.SelectData:
    return gr.SelectData(None, {"index": index, "value": None, "selected": True})


def shown(job_id: str, request: gr.Request) -> ShownJobs:
    """Session state naming `job_id`, forged as the caller's own (the session-owner check
    passes): only the service's owner check stands between the caller and the job."""
    return ShownJobs(owner=request.username, ids=(job_id,), current=job_id)


# the History filters as the tab starts: any status, style and product; canceled and failed folded
NO_FILTERS = ("any", "", "", False, False)

# every studio event that takes a job id: handler name -> how to call it with (job id, request)
StudioCall = Callable[[Any, str, gr.Request], Any]
STUDIO_CASES: dict[str, StudioCall] = {
    "show_actions": lambda h, job_id, request: h.show_actions(shown(job_id, request), request),
    "make_variation": lambda h, job_id, request: h.make_variation(shown(job_id, request), request),
    "retry": lambda h, job_id, request: h.retry(shown(job_id, request), request),
    "cancel_jobs": lambda h, job_id, request: h.cancel_jobs(shown(job_id, request), request),
    "reuse_settings": lambda h, job_id, request: h.reuse_settings(shown(job_id, request), None, request),
    "show_from_grid": lambda h, job_id, request: h.show_from_grid(shown(job_id, request), select(0), request),
    "restore": lambda h, job_id, request: h.restore(job_id, None, None, request),
    "pick": lambda h, job_id, request: h.pick([job_id], select(0), request),
    "toggle_favorite": lambda h, job_id, request: h.toggle_favorite(job_id, 0, *NO_FILTERS, request),
    "ask_delete": lambda h, job_id, request: h.ask_delete(job_id, request),
    "delete": lambda h, job_id, request: h.delete(job_id, 0, *NO_FILTERS, request),
    "reset": lambda h, job_id, request: h.reset(shown(job_id, request), request),
    "make_print_file": lambda h, job_id, request: h.make_print_file(shown(job_id, request), request),
    "make_svg": lambda h, job_id, request: h.make_svg(shown(job_id, request), 4, request),
    "show_for_job": lambda h, job_id, request: h.show_for_job(shown(job_id, request), request),
    "official_mockups": lambda h, job_id, request: h.official_mockups(shown(job_id, request), ["White"], ["M"], request),
    "publish": lambda h, job_id, request: h.publish(shown(job_id, request), ["White"], ["M"], "24.00", request),
}
# events with state that is not a job id
NO_JOB_ID = {
    "show_page": "the history page number",
    "newer_page": "the history page number",
    "older_page": "the history page number",
    "clear_brief": "the brief's source fingerprint",
    "parse_brief": "the brief's source fingerprint",
    "generate_designs": "a new batch: job ids come from the service, not the caller",
}


@pytest.fixture(scope="module")
def studio(world) -> dict[str, tuple[Any, StudioCall]]:
    """The studio's events by handler name, on the world's services; a Gradio sign-in as
    `username` is the user of that name."""
    services = world.client.app.state.services
    ctx = StudioContext.from_services(services, StudioFiles(services.generation))
    ctx = dataclasses.replace(ctx, identify=lambda username: Identity(user_id=username, name=username))
    events = {}
    for block_fn in create_ui(ctx).fns.values():
        handlers = getattr(block_fn.fn, "__self__", None)
        if isinstance(handlers, (GenerateHandlers, HistoryHandlers, PrintHandlers, PublishHandlers)) and any(
                isinstance(block, gr.State) for block in block_fn.inputs):
            events[block_fn.fn.__name__] = handlers
    return events


def test_the_studio_table_covers_every_event_that_takes_state(studio):
    assert set(studio) == set(STUDIO_CASES) | set(NO_JOB_ID)


def studio_answer(make_call: Callable[[], Any]) -> str:
    """What the page would show: the refusal's message (the call must be refused)."""

    async def run() -> None:
        result = make_call()
        if inspect.isasyncgen(result):
            async for _ in result:
                pass
        elif inspect.isawaitable(result):
            await result

    try:
        anyio.run(run)
    except gr.Error as refused:
        return refused.message
    except JobNotFound as refused:
        return str(refused)
    raise AssertionError("the call was not refused")


@pytest.mark.parametrize("name", list(STUDIO_CASES))
def test_bob_calling_any_studio_event_with_alices_job_gets_the_unknown_job_answer(world, studio, name):
    handlers, call = studio[name], STUDIO_CASES[name]
    bob = gr.Request(username="bob")
    unknown = str(uuid.uuid4())
    answer = studio_answer(lambda: call(handlers, world.alice_job, bob))
    expected = studio_answer(lambda: call(handlers, unknown, bob))
    assert answer == f"job {world.alice_job} not found"
    assert answer.replace(world.alice_job, unknown) == expected
    assert_reveals_nothing(answer)
    assert_alice_job_untouched(world)
