"""The Generate tab's session state: bound to its owner, refused to anyone else without a word
of its contents, and the brief's fingerprint that tells a stale brief from a current one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from app import build_services
from core.auth import Identity
from core.jobs.service import GenerateCommand
from tests.support.apps import make_settings
from tests.ui.conftest import NO_QUOTAS
from ui.components import GenerateComponents
from ui.context import StudioContext
from ui.files import StudioFiles
from ui.generate_handlers import GenerateHandlers
from ui.generate_tab import create_generate_tab
from ui.session_state import FOREIGN_SESSION, MAX_GRID, BriefSource, ShownJobs, brief_fingerprint, checked


def test_the_fingerprint_changes_with_idea_style_product_or_negative_but_not_spacing():
    base = brief_fingerprint("an owl wearing glasses", "anime", "mug", "")
    assert brief_fingerprint("  an owl   wearing glasses ", "anime", "mug", " ") == base
    for changed in (("a humpback whale breaching at sunset", "anime", "mug", ""),
                    ("an owl wearing glasses", "watercolor", "mug", ""),
                    ("an owl wearing glasses", "anime", "poster", ""),
                    ("an owl wearing glasses", "anime", "mug", "blur")):
        assert brief_fingerprint(*changed) != base


def test_a_brief_source_matches_only_the_form_it_was_made_from():
    source = BriefSource("alice", brief_fingerprint("an owl", "anime", "mug", ""))
    assert source.matches("an owl", "anime", "mug", "")
    assert not source.matches("a whale", "anime", "mug", "")
    assert BriefSource("alice").matches("anything at all", "anime", "mug", "")  # a brief typed by hand


def test_the_grid_keeps_a_batch_and_its_variations_up_to_its_size():
    shown = ShownJobs("alice").with_new(["a", "b"], keep=False)
    assert (shown.ids, shown.current) == (("a", "b"), "a")
    varied = shown.with_new(["c"], keep=True)
    assert (varied.ids, varied.current) == (("a", "b", "c"), "c")
    assert varied.with_new(["x"], keep=False).ids == ("x",)
    full = ShownJobs("alice").with_new([str(n) for n in range(MAX_GRID)], keep=False).with_new(["new"], keep=True)
    assert len(full.ids) == MAX_GRID and full.ids[-1] == "new" and full.ids[0] == "1"


def test_state_of_another_user_is_refused_without_its_contents():
    assert checked(None, "bob") is None
    mine = ShownJobs("bob", ("j1",))
    assert checked(mine, "bob") is mine
    with pytest.raises(gr.Error) as refused:
        checked(ShownJobs("alice", ("alice-job-1",), "alice-job-1"), "bob")
    assert refused.value.message == FOREIGN_SESSION and "alice" not in refused.value.message


# --- the handlers, called directly as two users sharing one session hash ------------------------
def run(awaitable: Awaitable):
    """Awaited in a thread of its own: the browser tests' sync Playwright holds this thread's loop."""
    async def wait():
        return await awaitable

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, wait()).result()


def request(user: str) -> SimpleNamespace:
    return SimpleNamespace(username=user, session_hash="one-shared-session")


@pytest.fixture
def studio(tmp_path: Path):
    settings = make_settings(tmp_path, **NO_QUOTAS)
    services = build_services(settings)
    files = StudioFiles(services.generation, tmp_path / "files")
    ctx = StudioContext(service=services.generation, dashboard=services.dashboard, files=files,
                        identify=lambda username: Identity(username or "local"), generator_label="draft",
                        poll_interval_s=0.05)
    with gr.Blocks():
        components = create_generate_tab(ctx)
    yield ctx, components, GenerateHandlers(ctx, components)
    files.close()
    services.close()


def generate(handlers: GenerateHandlers, user: str, prompt: str, shown=None, source=None, **brief: str) -> list[dict]:
    fields = {"subject": "", "colors": "", "mood": "", "composition": "", "final_prompt": "", "final_negative": ""}

    async def collect() -> list[dict]:
        return [update async for update in handlers.generate_designs(
            prompt, "anime", "mug", 0, True, 4, "", 1, *{**fields, **brief}.values(), shown, source, request(user))]

    return run(collect())


def last_state(updates: list[dict], components: GenerateComponents):
    return [u[components.jobs] for u in updates if components.jobs in u][-1]


def test_another_users_calls_on_a_session_are_refused_without_naming_its_jobs_and_never_overwrite_it(studio):
    ctx, c, handlers = studio
    alice_shown = last_state(generate(handlers, "alice", "an owl wearing glasses"), c)
    alice_source = BriefSource("alice", brief_fingerprint("an owl wearing glasses", "anime", "mug", ""))
    assert alice_shown.owner == "alice" and alice_shown.ids
    alice_ids = set(alice_shown.ids)

    bob = request("bob")
    calls = {
        "generate": lambda: generate(handlers, "bob", "a whale", alice_shown, alice_source),
        "cancel": lambda: handlers.cancel_jobs(alice_shown, bob),
        "variation": lambda: run(anext(handlers.make_variation(alice_shown, bob))),
        "retry": lambda: run(anext(handlers.retry(alice_shown, bob))),
        "reuse": lambda: handlers.reuse_settings(alice_shown, None, bob),
        "pick": lambda: handlers.show_from_grid(alice_shown, SimpleNamespace(index=0), bob),
        "parse": lambda: handlers.parse_brief("a whale", "anime", "mug", "", 4, alice_source, bob),
    }
    for name, call in calls.items():
        with pytest.raises(gr.Error) as refused:
            call()
        message = refused.value.message
        assert message == FOREIGN_SESSION, name
        assert not any(job_id in message for job_id in alice_ids), name

    assert ctx.service.history("bob", limit=10) == []  # bob's refused generate made nothing
    # her job's follow-up buttons are not offered to bob
    assert [button.visible for button in handlers.show_actions(alice_shown, bob).values()] == [False] * 3
    # clearing the brief leaves alice's source alone: nothing bob does writes her state
    assert c.brief_source not in handlers.clear_brief(alice_source, bob)


def test_a_users_own_session_state_is_taken_and_kept(studio):
    ctx, c, handlers = studio
    first = last_state(generate(handlers, "alice", "an owl"), c)
    second = last_state(generate(handlers, "alice", "a heron", shown=first), c)
    assert second.owner == "alice" and second.ids != first.ids


def test_a_stale_brief_is_parsed_afresh_at_generate(studio):
    ctx, c, handlers = studio
    owl = ctx.service.brief_for(GenerateCommand(prompt="an owl wearing glasses", style="anime", product="mug"))
    source = BriefSource("alice", brief_fingerprint("an owl wearing glasses", "anime", "mug", ""))
    shown = last_state(generate(handlers, "alice", "a humpback whale breaching at sunset", source=source,
                                subject=owl.subject, final_prompt=owl.prompt, final_negative=owl.negative_prompt), c)
    job = ctx.service.owned_job("alice", shown.current)
    assert "whale" in job.parsed_prompt["prompt"] and "owl" not in job.parsed_prompt["prompt"]


def test_a_brief_made_from_the_form_on_screen_is_used_as_edited(studio):
    ctx, c, handlers = studio
    source = BriefSource("alice", brief_fingerprint("an owl wearing glasses", "anime", "mug", ""))
    shown = last_state(generate(handlers, "alice", "an owl wearing glasses", source=source, subject="owl",
                                final_prompt="an owl, gold leaf"), c)
    assert ctx.service.owned_job("alice", shown.current).parsed_prompt["prompt"] == "an owl, gold leaf"
