"""The prompt policy: what it refuses, how it says so, and what it lets through."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.errors import InvalidRequest
from core.catalog.policy import PolicyViolation, PromptPolicy, load_policy
from tests.support.apps import make_settings


@pytest.fixture(scope="module")
def policy() -> PromptPolicy:
    return load_policy()


@pytest.mark.parametrize(
    ("prompt", "term"),
    [
        ("Pikachu surfing a wave", "Pikachu"),
        ("a PIKACHU sticker", "Pikachu"),
        ("three pikachus dancing", "Pikachu"),
        ("mickey-mouse as a samurai", "Mickey Mouse"),
        ("MickeyMouse in space", "Mickey Mouse"),
        ("a cute pokemon in a forest", "Pokémon"),
        ("Pokémon trainer cat", "Pokémon"),
        ("spiderman eating ramen", "Spider-Man"),
        ("spider man eating ramen", "Spider-Man"),
        ("Hello Kitty with a katana", "Hello Kitty"),
        ("a star-wars style starship", "Star Wars"),
        ("nike swoosh on a dragon", "Nike"),
        ("mcdonalds fries monster", "McDonald's"),
        ("Marvel heroes team poster", "Marvel"),
        ("a disney princess castle", "Disney"),
        ("Pik\u200bachu on a surfboard", "Pikachu"),  # a zero-width space inside the word
    ],
)
def test_trademarks_and_characters_are_found_in_their_simple_variants(policy, prompt, term):
    assert term in [hit.term for hit in policy.findings(prompt)]


@pytest.mark.parametrize(
    "prompt",
    [
        "a marvelous sunset over the sea",
        "a samurai cat with neon lights",
        "nikel-plated robot",  # 'nike' inside a longer word
        "a kitten saying hello",  # both words, not the character
        "the starship wars of an original galaxy",
        "an original electric mouse character",
        "ukiyo-e wave in the style of hokusai",
        "a goofy dog with a stitched hat",
        "a disneyesque hand-drawn castle",  # a longer word that merely starts with a mark
        "naruto whirlpools, hiroshige woodblock",  # a place, not the character
        "an Ashkenazi bakery with rye bread",  # a longer word that merely ends with a term ('nazi')
        "a bootlego brick tower",  # ... 'Lego'
        "postcode 21488 on a vintage stamp",  # ... '1488'
    ],
)
def test_ordinary_prompts_pass_without_false_positives(policy, prompt):
    assert policy.findings(prompt) == []
    policy.check(prompt)


def test_the_refusal_names_the_word_what_it_is_and_what_to_do_instead(policy):
    with pytest.raises(PolicyViolation) as refused:
        policy.check("Pikachu surfing a wave")
    assert str(refused.value) == (
        "the prompt mentions 'Pikachu', a trademarked character; print-on-demand shops reject "
        "designs that infringe — describe an original character instead"
    )
    assert isinstance(refused.value, InvalidRequest)


@pytest.mark.parametrize(
    ("prompt", "rule"),
    [("a swastika flag", "hate"), ("nsfw anime girl", "sexual"), ("a beheading scene", "violence")],
)
def test_disallowed_content_is_refused_with_its_rule(policy, prompt, rule):
    with pytest.raises(PolicyViolation) as refused:
        policy.check(prompt)
    assert refused.value.hits[0].rule == rule


def test_a_policy_file_adds_terms_and_rules_and_can_allow_a_licensed_mark(tmp_path: Path):
    extra = tmp_path / "policy.json"
    extra.write_text(json.dumps({
        "rules": [
            {"id": "character", "terms": ["Tenkai Tanuki"]},
            {"id": "competitor", "kind": "a competitor's brand", "advice": "leave it out", "terms": ["Acme Prints"]},
        ],
        "allowed": ["Marvel"],
    }))
    policy = load_policy(extra)
    assert [h.term for h in policy.findings("tenkai-tanuki mascot")] == ["Tenkai Tanuki"]
    assert policy.findings("acme prints logo")[0].kind == "a competitor's brand"
    assert policy.findings("Marvel heroes") == []
    assert policy.findings("Pikachu")  # the bundled lists still apply


def test_an_unreadable_policy_file_fails_loudly_at_start(tmp_path: Path):
    broken = tmp_path / "policy.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="policy file"):
        load_policy(broken)


def test_the_api_refuses_a_trademarked_prompt_with_422_before_storing_a_job(tmp_path):
    with TestClient(create_app(make_settings(tmp_path))) as client:
        for path in ("/api/parse-prompt", "/api/generate"):
            response = client.post(path, json={"prompt": "Pikachu surfing", "style": "anime", "product": "t-shirt"})
            assert response.status_code == 422
            assert "'Pikachu', a trademarked character" in response.json()["detail"]
        assert client.app.state.services.generation.history("local") == []
        allowed = client.post("/api/parse-prompt", json={"prompt": "a marvelous fox", "style": "anime", "product": "mug"})
        assert allowed.status_code == 200


def test_the_settings_policy_file_reaches_the_service(tmp_path):
    extra = tmp_path / "policy.json"
    extra.write_text(json.dumps({"rules": [{"id": "trademark", "terms": ["Tenkai Rival"]}]}))
    with TestClient(create_app(make_settings(tmp_path, TENKAIGEN_POLICY_FILE=str(extra)))) as client:
        response = client.post("/api/parse-prompt", json={"prompt": "tenkai rival logo", "style": "anime", "product": "mug"})
    assert response.status_code == 422 and "'Tenkai Rival', a trademarked brand" in response.json()["detail"]
