"""Every text the image model receives goes through one normalisation and the policy, in the
service, so the HTTP API and the studio (an edited brief) get the same checks."""

from __future__ import annotations

import json

import pytest

from core.catalog.policy import PolicyViolation
from core.errors import InvalidRequest
from core.jobs import JobStore
from core.jobs.limits import (
    MAX_COLOR_CHARS,
    MAX_COLORS,
    MAX_COMPOSITION_CHARS,
    MAX_FINAL_PROMPT_CHARS,
    MAX_MOOD_CHARS,
    MAX_NEGATIVE_PROMPT_CHARS,
    MAX_SUBJECT_CHARS,
)
from core.jobs.service import GenerateCommand, GenerationService
from core.parsing import LocalPromptParser
from tests.support.generators import RecordingGenerator


@pytest.fixture
def generator() -> RecordingGenerator:
    return RecordingGenerator()


def make_service(jobs: JobStore, objects, catalog, generator) -> GenerationService:
    return GenerationService(jobs=jobs, objects=objects, parser=LocalPromptParser(catalog), generator=generator,
                             catalog=catalog, webhook_url="http://127.0.0.1:1/api/generate/webhook")


@pytest.fixture
def service(sqlite_store, local_store, catalog, generator) -> GenerationService:
    return make_service(sqlite_store, local_store, catalog, generator)


def command(**changes) -> GenerateCommand:
    values = {"prompt": "a yellow mouse", "style": "anime", "product": "t-shirt"}
    return GenerateCommand(**{**values, **changes})


def brief(**edits) -> dict:
    """A whole edited brief, as the studio sends one, with `edits` applied."""
    values = {"subject": "yellow mouse", "colors": ["yellow"], "mood": "playful", "composition": "centered",
              "prompt": "a yellow mouse, anime style", "negative_prompt": "blurry"}
    return {**values, **edits}


# --- the policy covers what the model is asked to draw -----------------------------------------
@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"prompt": "Pikachu and Mickey Mouse with a Nike logo"}, "^the final prompt mentions 'Nike'"),
        ({"prompt": "a yellow mouse, Pik\u200bachu cheeks"}, "^the final prompt mentions 'Pikachu'"),
        ({"prompt": "a yellow mouse, ＰＩＫＡＣＨＵ"}, "^the final prompt mentions 'Pikachu'"),
        ({"subject": "Mickey Mouse"}, "^the subject mentions 'Mickey Mouse'"),
        ({"mood": "nazi"}, "^the mood mentions 'nazi'"),
        ({"composition": "Nike swoosh badge"}, "^the composition mentions 'Nike'"),
        ({"colors": ["yellow", "Ferrari red"]}, "^a colour mentions 'Ferrari'"),
    ],
    ids=["final-prompt", "final-prompt-zero-width", "final-prompt-fullwidth", "subject", "mood", "composition",
         "colour"],
)
def test_an_edited_brief_asking_for_a_refused_term_is_refused_and_nothing_is_generated(service, generator, edits,
                                                                                      message):
    with pytest.raises(PolicyViolation, match=message):
        service.submit_batch("alice", command(brief_overrides=brief(**edits)), count=1)
    assert generator.requests == [] and service.history("alice") == []


def test_the_idea_with_a_zero_width_space_inside_a_term_is_refused(service):
    with pytest.raises(PolicyViolation, match="^the prompt mentions 'Pikachu'"):
        service.create_job("alice", command(prompt="Pik\u200bachu surfing"))


def test_a_parsed_brief_is_checked_too(service, monkeypatch):
    """What a parser (Gemini) writes is what the model receives: it passes the policy as well."""
    parse = service.parser.parse
    monkeypatch.setattr(service.parser, "parse", lambda *args: parse(*args).model_copy(
        update={"prompt": "a yellow mouse in the style of Studio Ghibli"}))
    with pytest.raises(PolicyViolation, match="^the final prompt mentions 'Studio Ghibli'"):
        service.create_job("alice", command())


def test_a_rerun_checks_the_stored_brief_against_todays_policy(service, generator):
    job = service.submit("alice", command())
    stored = service.jobs.get(job.id).parsed_prompt
    service.jobs._conn.execute("UPDATE generation_jobs SET parsed_prompt = ? WHERE id = ?",
                               (json.dumps({**stored, "prompt": "Pikachu"}), job.id))
    with pytest.raises(PolicyViolation, match="final prompt mentions 'Pikachu'"):
        service.rerun("alice", job.id, keep_seed=True)
    assert len(generator.requests) == 1


@pytest.mark.parametrize("negative", ["no Nike logo, no Pikachu", "Mickey Mouse ears"])
def test_negative_prompts_may_name_what_to_keep_out(service, generator, negative):
    service.submit("alice", command(negative_prompt=negative))
    service.submit("alice", command(brief_overrides=brief(negative_prompt=negative)))
    assert [r.negative_prompt for r in generator.requests] == [negative, negative]


def test_every_text_the_model_receives_is_normalised(service, generator):
    edits = brief(subject="yellow\u200b mouse", prompt="a yellow\tmouse,\n ｉｎｋ wash\u00ad",
                  negative_prompt="blur\u200b,\r\nwatermark", colors=[" yel\u200blow ", "", "\u200b"],
                  mood="  calm\x07 ", composition="\u200b")
    job = service.submit("alice", command(prompt="a yellow\u200b\tmouse", negative_prompt="x", brief_overrides=edits))
    sent = generator.requests[0]
    assert (sent.prompt, sent.negative_prompt) == ("a yellow mouse, ink wash", "blur, watermark")
    stored = service.jobs.get(job.id)
    assert stored.prompt == "a yellow mouse"
    assert {k: stored.parsed_prompt[k] for k in ("subject", "colors", "mood", "composition")} == {
        "subject": "yellow mouse", "colors": ["yellow"], "mood": "calm", "composition": None}


def test_the_typed_negative_prompt_is_normalised(service, generator):
    service.submit("alice", command(negative_prompt=" blur\u200b,\n\twatermark "))
    assert generator.requests[0].negative_prompt == "blur, watermark"


# --- length limits on every brief field -------------------------------------------------------
@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"subject": "x" * (MAX_SUBJECT_CHARS + 1)}, "the subject is too long"),
        ({"subject": "x" * 20_000_000}, "the subject is too long"),
        ({"mood": "x" * (MAX_MOOD_CHARS + 1)}, "the mood is too long"),
        ({"composition": "x" * (MAX_COMPOSITION_CHARS + 1)}, "the composition is too long"),
        ({"prompt": "x" * (MAX_FINAL_PROMPT_CHARS + 1)}, "the final prompt is too long"),
        ({"negative_prompt": "x" * (MAX_NEGATIVE_PROMPT_CHARS + 1)}, "the final negative prompt is too long"),
        ({"colors": ["red"] * (MAX_COLORS + 1)}, f"too many colours: {MAX_COLORS + 1}"),
        ({"colors": ["red"] * 200_000}, "too many colours"),
        ({"colors": ["red", "x" * (MAX_COLOR_CHARS + 1)]}, "colour 2 is too long"),
        ({"colors": "red, blue"}, "must be a list"),
    ],
    ids=["subject", "subject-20mb", "mood", "composition", "final-prompt", "final-negative", "colours",
         "colours-200k", "one-colour", "colours-not-a-list"],
)
def test_every_brief_field_has_a_limit_and_a_refusal_stores_nothing(service, generator, edits, message):
    with pytest.raises(InvalidRequest, match=message):
        service.submit_batch("alice", command(brief_overrides=brief(**edits)), count=1)
    assert generator.requests == [] and service.history("alice") == []


def test_the_typed_negative_prompt_has_its_limit(service):
    with pytest.raises(InvalidRequest, match="^negative_prompt is too long"):
        service.create_job("alice", command(negative_prompt="x" * (MAX_NEGATIVE_PROMPT_CHARS + 1)))


def test_fields_at_their_limits_are_accepted(service, generator):
    edits = brief(subject="s" * MAX_SUBJECT_CHARS, mood="m" * MAX_MOOD_CHARS,
                  composition="c" * MAX_COMPOSITION_CHARS, prompt="p" * MAX_FINAL_PROMPT_CHARS,
                  negative_prompt="n" * MAX_NEGATIVE_PROMPT_CHARS, colors=["c" * MAX_COLOR_CHARS] * MAX_COLORS)
    service.submit("alice", command(brief_overrides=edits))
    assert len(generator.requests[0].prompt) == MAX_FINAL_PROMPT_CHARS


def test_every_style_and_product_parses_to_a_brief_the_policy_accepts(service, catalog):
    for style in catalog.styles:
        for product in catalog.products:
            service.brief_for(command(prompt="a happy fox with a logo, centered, full body, neon red", style=style,
                                      product=product))


# --- text no store can hold: refused, on both stores ------------------------------------------
@pytest.mark.parametrize("bad", ["\x00", "\ud800"], ids=["nul", "surrogate"])
@pytest.mark.parametrize(
    ("where", "field"),
    [("prompt", "prompt"), ("negative_prompt", "negative_prompt"), ("final", "the final prompt"),
     ("final_negative", "the final negative prompt"), ("subject", "the subject"), ("colour", "colour 1"),
     ("mood", "the mood")],
)
def test_a_nul_or_lone_surrogate_is_refused_naming_the_field_on_every_store(job_store, local_store, catalog, bad,
                                                                           where, field):
    service = make_service(job_store, local_store, catalog, RecordingGenerator())
    text = f"a yellow{bad} mouse"
    commands = {
        "prompt": command(prompt=text),
        "negative_prompt": command(negative_prompt=text),
        "final": command(brief_overrides=brief(prompt=text)),
        "final_negative": command(brief_overrides=brief(negative_prompt=text)),
        "subject": command(brief_overrides=brief(subject=text)),
        "colour": command(brief_overrides=brief(colors=[text])),
        "mood": command(brief_overrides=brief(mood=text)),
    }
    with pytest.raises(InvalidRequest, match=f"^{field} contains (a NUL character|an unpaired surrogate)"):
        service.submit_batch("alice", commands[where], count=1)
    assert service.history("alice") == []


# --- history pages ------------------------------------------------------------------------------
@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (101, 0), (20, -1), (20, 9223372036854775808),
                                               (9223372036854775808, 0)])
def test_a_history_page_out_of_range_is_refused_not_a_database_error(job_store, local_store, catalog, limit,
                                                                      offset):
    service = make_service(job_store, local_store, catalog, RecordingGenerator())
    with pytest.raises(InvalidRequest, match="must be between"):
        service.history("alice", limit=limit, offset=offset)
