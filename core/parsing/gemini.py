"""GeminiPromptParser: Gemini writes the creative half of the brief, the catalog the rest.

The model is asked only for what needs taste — subject, colours, mood, composition, the image
prompt and what to avoid — as JSON in the `GeminiBrief` schema. Style, product, size and aspect
come from the catalog, so no answer can break them. Every failure (HTTP error after one retry,
timeout, an answer that is not a valid brief) ends in the local parser's brief with
`fallback_reason` saying why; parsing never fails because Gemini did.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel, Field

from core.catalog import Catalog, Product, Style
from core.parsing.base import PromptParser
from core.jobs.limits import MAX_NEGATIVE_PROMPT_CHARS
from core.parsing.cache import BriefCache
from core.parsing.local import PRINT_NEGATIVE
from core.parsing.models import ParsedPrompt

log = logging.getLogger(__name__)
# google-genai 3.x sends its requests with httpx2 (the SDK's default transport), so its
# timeouts and connection errors are httpx2's

# 408/429 and 5xx are worth one more try; anything else (400, 403, 404) will not get better
RETRYABLE_STATUS = [408, 429, 500, 502, 503, 504]
MAX_PROMPT_CHARS = 1500

SYSTEM_INSTRUCTION = """\
You are the art director of a print-on-demand merch shop. A designer gives you a short idea,
the art style they picked and the product it will be printed on. Turn it into a brief for a
text-to-image model (Qwen-Image) that makes ONE print-ready design.

Rules:
- subject: what the design shows, in a few words.
- colors: colour words or hex codes the design should use; the idea's own first, else ones
  that suit the style. At most 6.
- mood and composition: one or two words each, or null.
- prompt: one paragraph in English for the image model: the subject first, then the style's
  look, colours, mood, composition and lighting. Describe an original design only: never name
  brands, logos, trademarked characters or real people. No text or lettering in the image
  unless the idea asks for words.
- For garments, bags and stickers the design is printed without a background: one isolated,
  centered subject on a plain background, clean edges, nothing touching the borders.
- For posters, canvas, mugs and phone cases the design fills the whole print area edge to edge.
- negative_prompt: a comma-separated list of what the image model must avoid.
Answer with JSON only, in the given schema."""


class GeminiBrief(BaseModel):
    """What the model is asked for: the creative fields of a ParsedPrompt."""

    subject: str = Field(description="What the design shows, in a few words")
    colors: list[str] = Field(default_factory=list, description="Colour words or hex codes")
    mood: str | None = Field(None, description="Overall feeling in one or two words")
    composition: str | None = Field(None, description="Layout hint in one or two words")
    prompt: str = Field(description="The full prompt for the image model, in English")
    negative_prompt: str = Field(description="Comma-separated things the image model must avoid")


class GeminiUnusable(Exception):
    """Gemini answered, but not with something we can use."""


def product_hint(product: Product) -> str:
    if product.transparent_background:
        return "printed without a background: isolated centered subject on a plain background"
    return "printed edge to edge: the design fills the whole print area"


def request_text(prompt: str, style: Style, product: Product) -> str:
    width, height = product.generation_size
    return (
        f"Idea: {prompt}\n"
        f"Style: {style.name} — {style.prompt_suffix}\n"
        f"Product: {product.name}, {product_hint(product)}\n"
        f"Image: {width}x{height} px"
    )


def merge_terms(*lists: str) -> str:
    """Comma-separated terms from several lists, each once (case-insensitive), in order."""
    seen: dict[str, str] = {}
    for text in lists:
        for term in (t.strip() for t in text.split(",")):
            if term and term.casefold() not in seen:
                seen[term.casefold()] = term
    return ", ".join(seen.values())


def _short(value: str | None, limit: int) -> str | None:
    text = " ".join((value or "").split())
    return text[:limit] if text else None


class GeminiPromptParser:
    """PromptParser backed by Gemini (google-genai SDK), with a cache and a local fallback."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        api_key: str,
        model: str,
        fallback: PromptParser,
        base_url: str | None = None,
        timeout_s: float = 8.0,
        retry_delay_s: float = 0.5,
        thinking_budget: int | None = 0,
        cache: BriefCache | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._catalog = catalog
        self._model = model
        self._fallback = fallback
        self._timeout_s = timeout_s
        self._thinking_budget = thinking_budget
        self._cache = cache if cache is not None else BriefCache(ttl_s=0)
        self._clock = clock
        retry = types.HttpRetryOptions(
            attempts=2,  # the call and one retry
            initial_delay=retry_delay_s,
            max_delay=retry_delay_s * 1.5,
            jitter=retry_delay_s / 2,
            http_status_codes=RETRYABLE_STATUS,
        )
        self._client = genai.Client(
            vertexai=False,
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url,
                # v1beta: structured output, system instructions and thinking config all live
                # there (google-genai 3.x would otherwise default to v1)
                api_version="v1beta",
                timeout=int(timeout_s * 1000),
                retry_options=retry,
            ),
        )

    @property
    def model(self) -> str:
        return self._model

    def parse(self, prompt: str, style: str, product: str) -> ParsedPrompt:
        chosen_style = self._catalog.style(style)
        chosen_product = self._catalog.product(product)
        key = (" ".join(prompt.split()).casefold(), chosen_style.id, chosen_product.id, self._model)
        cached = self._cache.get(key)
        if cached is not None:
            log.info("gemini parse served from cache style=%s product=%s", style, product)
            return cached
        started = self._clock()
        try:
            brief = self._brief(self._ask(prompt, chosen_style, chosen_product), chosen_style, chosen_product)
        except Exception as exc:  # every failure ends in the local brief, never in an error
            reason = self._reason(exc)
            log.warning("gemini parse failed, local parser used model=%s reason=%s", self._model, reason)
            return self._fallback.parse(prompt, style, product).model_copy(update={"fallback_reason": reason})
        log.info("gemini parse ok model=%s latency_ms=%d", self._model, (self._clock() - started) * 1000)
        self._cache.put(key, brief)
        return brief

    def _ask(self, prompt: str, style: Style, product: Product) -> GeminiBrief:
        config = types.GenerateContentConfig(
            system_instruction=SYSTEM_INSTRUCTION,
            response_mime_type="application/json",
            response_schema=GeminiBrief,
            thinking_config=(
                types.ThinkingConfig(thinking_budget=self._thinking_budget) if self._thinking_budget is not None else None
            ),
        )
        response = self._client.models.generate_content(
            model=self._model, contents=request_text(prompt, style, product), config=config
        )
        if isinstance(response.parsed, GeminiBrief):
            return response.parsed
        if not response.text:
            finish = response.candidates[0].finish_reason if response.candidates else None
            raise GeminiUnusable(f"gemini returned no answer (finish reason {finish})")
        raise GeminiUnusable("gemini's answer was not a valid brief")

    def _brief(self, answer: GeminiBrief, style: Style, product: Product) -> ParsedPrompt:
        subject = _short(answer.subject, 120)
        prompt = _short(answer.prompt, MAX_PROMPT_CHARS)
        if not subject or not prompt:
            raise GeminiUnusable("gemini's answer had an empty subject or prompt")
        if product.transparent_background and "background" not in prompt.casefold():
            prompt = f"{prompt}, isolated on a plain background"
        width, height = product.generation_size
        return ParsedPrompt(
            subject=subject,
            style=style.id,
            colors=[c for c in (_short(color, 30) for color in answer.colors[:6]) if c],
            mood=_short(answer.mood, 40),
            composition=_short(answer.composition, 60),
            product=product.id,
            aspect_ratio=product.aspect_ratio,
            width=width,
            height=height,
            prompt=prompt,
            negative_prompt=merge_terms(answer.negative_prompt, style.negative_prompt, PRINT_NEGATIVE)[:MAX_NEGATIVE_PROMPT_CHARS],
            parser="gemini",
        )

    def _reason(self, exc: Exception) -> str:
        if isinstance(exc, genai_errors.APIError):
            return f"gemini answered HTTP {exc.code} {exc.status or ''}".strip()
        if isinstance(exc, httpx2.TimeoutException):
            return f"gemini did not answer within {self._timeout_s:g} s"
        if isinstance(exc, httpx2.HTTPError):
            return f"gemini could not be reached ({type(exc).__name__})"
        if isinstance(exc, GeminiUnusable):
            return str(exc)
        log.exception("unexpected gemini failure")
        return f"gemini failed ({type(exc).__name__})"
