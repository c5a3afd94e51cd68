"""GeminiPromptParser against a loopback server that answers like the Gemini REST API.

Every path ends in a valid brief: Gemini's when it answers well, the local parser's (with the
reason) when it does not. One retry on 429/5xx/timeouts, none on other errors; repeats are
served from the cache.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.catalog import Catalog
from core.parsing import LocalPromptParser, ParsedPrompt
from core.parsing.cache import BriefCache
from core.parsing.gemini import GeminiPromptParser
from tests.support.apps import make_settings
from tests.support.gemini_stub import GOOD_BRIEF, GeminiStub, Reply, answer, error, held, raw_text
from tests.support.servers import LiveServer, free_port

MODEL = "gemini-2.5-flash"
API_KEY = "test-key-not-a-secret"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def stub_server() -> Iterator[tuple[GeminiStub, str]]:
    stub = GeminiStub()
    with LiveServer(stub.app()) as server:
        yield stub, server.url
        stub.release()


@pytest.fixture
def stub(stub_server) -> Iterator[GeminiStub]:
    stub, _ = stub_server
    stub.script.clear()
    stub.requests.clear()
    stub.released.clear()
    yield stub
    stub.release()


@pytest.fixture
def make_parser(stub_server, catalog: Catalog):
    _, url = stub_server

    def build(timeout_s: float = 5.0, cache: BriefCache | None = None, base_url: str | None = None) -> GeminiPromptParser:
        return GeminiPromptParser(
            catalog, api_key=API_KEY, model=MODEL, base_url=base_url or url, timeout_s=timeout_s,
            retry_delay_s=0, cache=cache, fallback=LocalPromptParser(catalog),
        )

    return build


def assert_valid_brief(brief: ParsedPrompt, catalog: Catalog, style: str, product: str) -> None:
    assert brief.style == style and brief.product == product
    assert (brief.width, brief.height) == catalog.product(product).generation_size
    assert brief.subject and brief.prompt and brief.negative_prompt


# --- a good answer ----------------------------------------------------------------------------
def test_a_good_answer_becomes_a_gemini_brief(stub, make_parser, catalog):
    brief = make_parser().parse("a samurai cat", "anime", "poster")
    assert brief.parser == "gemini" and brief.fallback_reason is None
    assert brief.subject == "samurai cat" and brief.colors == ["crimson", "gold"]
    assert brief.mood == "fierce" and brief.composition == "centered"
    assert brief.prompt == GOOD_BRIEF["prompt"]
    assert_valid_brief(brief, catalog, "anime", "poster")


def test_the_request_carries_the_system_instruction_schema_and_key(stub, make_parser):
    make_parser().parse("a samurai cat", "watercolor", "mug")
    [request] = stub.requests
    assert request["version"] == "v1beta"
    assert request["model"] == MODEL and request["action"] == "generateContent"
    assert request["api_key"] == API_KEY
    body = request["body"]
    assert "print-on-demand" in body["systemInstruction"]["parts"][0]["text"]
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    schema = body["generationConfig"].get("responseSchema") or body["generationConfig"].get("responseJsonSchema")
    assert "subject" in str(schema) and "negative_prompt" in str(schema)
    # the SDK writes this one in snake_case; the API's proto-JSON parser takes either spelling
    assert body["generationConfig"]["thinkingConfig"] in ({"thinkingBudget": 0}, {"thinking_budget": 0})
    text = body["contents"][0]["parts"][0]["text"]
    assert "a samurai cat" in text and "Watercolor" in text and "Mug (11 oz)" in text


def test_the_model_cannot_change_style_product_or_size(stub, make_parser, catalog):
    stub.script.append(answer({**GOOD_BRIEF, "style": "baroque", "product": "spaceship", "width": 5, "height": 5}))
    brief = make_parser().parse("a samurai cat", "pixel-art", "sticker")
    assert brief.parser == "gemini"
    assert_valid_brief(brief, catalog, "pixel-art", "sticker")


def test_negative_prompt_merges_the_models_the_styles_and_print_terms_once(stub, make_parser, catalog):
    brief = make_parser().parse("a samurai cat", "anime", "poster")
    terms = [t.strip() for t in brief.negative_prompt.split(",")]
    assert terms[:3] == ["blurry", "extra limbs", "watermark"]
    assert "photorealistic" in terms  # the anime style's own negative
    assert terms.count("watermark") == 1 and "mockup" in terms


def test_a_transparent_product_prompt_asks_for_a_plain_background(stub, make_parser):
    brief = make_parser().parse("a samurai cat", "anime", "t-shirt")
    assert brief.prompt.endswith("isolated on a plain background")


# --- failures end in the local brief ------------------------------------------------------------
@pytest.mark.parametrize(
    ("replies", "reason", "requests"),
    [
        ([raw_text("sorry, I cannot do JSON {")], "not a valid brief", 1),
        ([answer({**GOOD_BRIEF, "subject": "  ", "prompt": ""})], "empty subject or prompt", 1),
        ([Reply(text="", finish_reason="SAFETY")], "no answer (finish reason", 1),
        ([error(429), error(429)], "HTTP 429 RESOURCE_EXHAUSTED", 2),
        ([error(500), error(500)], "HTTP 500 INTERNAL", 2),
        ([error(400)], "HTTP 400", 1),
    ],
    ids=["malformed", "empty-fields", "blocked", "429", "500", "400-not-retried"],
)
def test_a_failed_answer_falls_back_to_the_local_brief_with_the_reason(stub, make_parser, catalog, replies, reason, requests):
    stub.script.extend(replies)
    brief = make_parser().parse("a cute red fox", "watercolor", "mug")
    assert brief.parser == "local" and reason in (brief.fallback_reason or "")
    assert brief == LocalPromptParser(catalog).parse("a cute red fox", "watercolor", "mug").model_copy(
        update={"fallback_reason": brief.fallback_reason}
    )
    assert len(stub.requests) == requests


def test_a_timeout_is_retried_once_then_falls_back(stub, make_parser, catalog):
    stub.script.extend([held(10), held(10)])
    started = time.monotonic()
    brief = make_parser(timeout_s=0.3).parse("a cute red fox", "watercolor", "mug")
    elapsed = time.monotonic() - started
    assert brief.parser == "local" and brief.fallback_reason == "gemini did not answer within 0.3 s"
    assert len(stub.requests) == 2
    assert elapsed < 3, f"two 0.3 s attempts took {elapsed:.1f} s"
    assert_valid_brief(brief, catalog, "watercolor", "mug")


@pytest.mark.parametrize("first", [error(429), error(503), held(10)], ids=["429", "503", "timeout"])
def test_one_transient_failure_is_retried_and_the_retry_answers(stub, make_parser, first):
    stub.script.extend([first, answer()])
    brief = make_parser(timeout_s=0.3).parse("a samurai cat", "anime", "poster")
    assert brief.parser == "gemini"
    assert len(stub.requests) == 2


def test_an_unreachable_gemini_falls_back(catalog, make_parser):
    brief = make_parser(timeout_s=1, base_url=f"http://127.0.0.1:{free_port()}").parse("a fox", "anime", "mug")
    assert brief.parser == "local" and "could not be reached" in (brief.fallback_reason or "")


# --- the cache ---------------------------------------------------------------------------------
def test_a_repeated_prompt_is_served_from_the_cache_without_a_second_request(stub, make_parser):
    parser = make_parser(cache=BriefCache(ttl_s=60))
    first = parser.parse("a samurai cat", "anime", "poster")
    again = parser.parse("  A samurai   CAT ", "anime", "poster")
    assert again == first and len(stub.requests) == 1
    parser.parse("a samurai cat", "anime", "mug")  # another product is another brief
    assert len(stub.requests) == 2


def test_the_cache_forgets_after_its_ttl(stub, make_parser):
    clock = FakeClock()
    parser = make_parser(cache=BriefCache(ttl_s=60, clock=clock))
    parser.parse("a samurai cat", "anime", "poster")
    clock.now += 59
    parser.parse("a samurai cat", "anime", "poster")
    assert len(stub.requests) == 1
    clock.now += 2
    parser.parse("a samurai cat", "anime", "poster")
    assert len(stub.requests) == 2


def test_a_fallback_brief_is_not_cached(stub, make_parser):
    parser = make_parser(cache=BriefCache(ttl_s=60))
    stub.script.extend([error(500), error(500)])
    assert parser.parse("a samurai cat", "anime", "poster").parser == "local"
    assert parser.parse("a samurai cat", "anime", "poster").parser == "gemini"
    assert len(stub.requests) == 3


# --- wiring ------------------------------------------------------------------------------------
def test_the_app_parses_with_gemini_when_the_key_is_set(stub_server, stub, tmp_path):
    _, url = stub_server
    settings = make_settings(tmp_path, GEMINI_API_KEY=API_KEY, GEMINI_BASE_URL=url, GEMINI_TIMEOUT_S=5)
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/parse-prompt", json={"prompt": "a samurai cat", "style": "anime", "product": "mug"})
    parsed = response.json()["parsed"]
    assert parsed["parser"] == "gemini" and parsed["fallback_reason"] is None
    assert (parsed["width"], parsed["height"]) == (2048, 800)  # the mug wrap's aspect


def test_the_app_parses_locally_without_a_key(tmp_path):
    with TestClient(create_app(make_settings(tmp_path))) as client:
        parsed = client.post("/api/parse-prompt", json={"prompt": "a fox", "style": "anime", "product": "mug"}).json()["parsed"]
    assert parsed["parser"] == "local" and parsed["fallback_reason"] is None
