"""Briefs: from a designer's idea to what the image model is asked to draw.

The idea is normalised and bounded (core.jobs.text), checked against the policy before the
parser runs (a refused idea costs neither a Gemini call nor GPU time), parsed, and then the
designer's edits are applied, each field normalised, bounded and policy-checked in turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from core.catalog import Catalog
from core.catalog.policy import PromptPolicy
from core.errors import InvalidRequest
from core.jobs.limits import (
    MAX_COLOR_CHARS,
    MAX_COLORS,
    MAX_COMPOSITION_CHARS,
    MAX_FINAL_PROMPT_CHARS,
    MAX_MOOD_CHARS,
    MAX_NEGATIVE_PROMPT_CHARS,
    MAX_STEPS,
    MAX_SUBJECT_CHARS,
)
from core.jobs.text import clean_text
from core.parsing import ParsedPrompt, PromptParser

# The parts of a parsed brief a designer may edit before generating. The edited `prompt`
# and `negative_prompt` are exactly what the generator receives; the rest is the record.
EDITABLE_BRIEF_FIELDS = ("subject", "colors", "mood", "composition", "prompt", "negative_prompt")


@dataclass(frozen=True)
class GenerateCommand:
    """A user's request to generate, before any validation.

    `brief_overrides` holds edits to the parsed brief (keys from EDITABLE_BRIEF_FIELDS);
    `steps` asks for a number of denoising steps instead of the app's default;
    `callback_url` asks for the job's terminal status to be POSTed there (core.jobs.callbacks).
    """

    prompt: str
    style: str
    product: str
    seed: int | None = None
    negative_prompt: str | None = None
    steps: int | None = None
    brief_overrides: Mapping[str, Any] | None = None
    callback_url: str | None = None



class BriefWriter:
    """Turns a GenerateCommand into the brief its jobs generate from."""

    def __init__(self, catalog: Catalog, parser: PromptParser, policy: PromptPolicy, max_prompt_chars: int) -> None:
        self.catalog = catalog
        self.parser = parser
        self.policy = policy
        self.max_prompt_chars = max_prompt_chars

    def parse(self, prompt: str, style: str, product: str) -> ParsedPrompt:
        """The brief for a prompt; InvalidRequest for an empty or too long prompt or unknown ids,
        PolicyViolation (an InvalidRequest) for a prompt the policy refuses — checked before
        the parser runs, so a refused prompt costs neither a Gemini call nor GPU time."""
        text = self.clean_idea(prompt)
        self.catalog.style(style)
        self.catalog.product(product)
        self.policy.check(text)
        return self.parser.parse(text, style, product)

    def clean_idea(self, prompt: str) -> str:
        """The idea normalised (core.jobs.text) and within its limit; the policy is parse's."""
        text = clean_text(prompt, "prompt", self.max_prompt_chars)
        if not text:
            raise InvalidRequest("prompt is empty: describe the design you want")
        return text

    def brief_for(self, command: GenerateCommand) -> ParsedPrompt:
        """The brief a command generates from: parsed, then the caller's edits applied.

        Every text the image model receives passes the same normalisation and limits
        (core.jobs.text); what it is asked to draw (the final prompt and the brief's subject,
        colours, mood and composition) passes the policy too. The negative prompts are not
        policy-checked: they name what to keep out ("logo, Nike swoosh")."""
        brief = self.parse(command.prompt, command.style, command.product)
        update: dict[str, Any] = {}
        negative = clean_text(command.negative_prompt, "negative_prompt", MAX_NEGATIVE_PROMPT_CHARS)
        if negative:
            update["negative_prompt"] = negative
        if command.steps is not None:
            if not 1 <= command.steps <= MAX_STEPS:
                raise InvalidRequest(f"steps must be between 1 and {MAX_STEPS}")
            update["steps"] = command.steps
        update.update(self._clean_overrides(command.brief_overrides or {}))
        if update:
            try:
                brief = ParsedPrompt.model_validate({**brief.model_dump(), **update})
            except ValidationError as exc:
                raise InvalidRequest(f"the edited brief is not valid: {exc.errors()[0]['msg']}") from None
        self.check_policy(brief)
        return brief

    def check_policy(self, brief: ParsedPrompt) -> None:
        """PolicyViolation naming the brief's field that asks the model to draw a refused term."""
        self.policy.check(brief.prompt, "the final prompt")
        self.policy.check(brief.subject, "the subject")
        for field in ("mood", "composition"):
            self.policy.check(getattr(brief, field) or "", f"the {field}")
        for color in brief.colors:
            self.policy.check(color, "a colour")

    def _clean_overrides(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(overrides) - set(EDITABLE_BRIEF_FIELDS))
        if unknown:
            raise InvalidRequest(
                f"brief field(s) {', '.join(unknown)} cannot be edited; editable: {', '.join(EDITABLE_BRIEF_FIELDS)}"
            )
        clean = dict(overrides)
        if "prompt" in clean:
            clean["prompt"] = clean_text(clean["prompt"], "the final prompt", MAX_FINAL_PROMPT_CHARS)
            if not clean["prompt"]:
                raise InvalidRequest("the final prompt is empty: describe what the image model should draw")
        if "negative_prompt" in clean:
            clean["negative_prompt"] = clean_text(
                clean["negative_prompt"], "the final negative prompt", MAX_NEGATIVE_PROMPT_CHARS
            )
        for field, limit in (("mood", MAX_MOOD_CHARS), ("composition", MAX_COMPOSITION_CHARS)):
            if field in clean:
                clean[field] = clean_text(clean[field], f"the {field}", limit) or None
        if "subject" in clean:
            clean["subject"] = clean_text(
                clean["subject"], "the subject", max(MAX_SUBJECT_CHARS, self.max_prompt_chars)
            )
        if "colors" in clean:
            clean["colors"] = self._clean_colors(clean["colors"])
        return clean

    @staticmethod
    def _clean_colors(colors: Any) -> list[str]:
        if colors is None:
            return []
        if isinstance(colors, str) or not isinstance(colors, (list, tuple)):
            raise InvalidRequest("the colours must be a list of colour words or hex codes")
        if len(colors) > MAX_COLORS:
            raise InvalidRequest(f"too many colours: {len(colors)}, the limit is {MAX_COLORS}")
        cleaned = (clean_text(color, f"colour {i}", MAX_COLOR_CHARS) for i, color in enumerate(colors, start=1))
        return [color for color in cleaned if color]
