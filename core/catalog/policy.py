"""Prompt policy: refuse prompts that print-on-demand shops would refuse, before any GPU time.

The lists live in `core/catalog/policy.json` (trademarked brands and characters, hate,
explicit and violent content); a deployment adds its own with TENKAIGEN_POLICY_FILE. Matching
is deliberately simple and predictable — whole words, case- and accent-insensitive, spaces,
hyphens and dots between words treated alike, a plural s/es accepted — so a refusal can always
be explained by pointing at the word that caused it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from core.errors import InvalidRequest

# between the words of a term: any run of spaces, hyphens, underscores or dots, or nothing
WORD_GAP = r"[\s\-_.]*"


class PolicyViolation(InvalidRequest):
    """The prompt asks for something the policy refuses; the message names the word."""

    def __init__(self, message: str, hits: list[PolicyHit]) -> None:
        super().__init__(message)
        self.hits = hits


@dataclass(frozen=True)
class PolicyHit:
    term: str  # as listed in the policy file
    rule: str
    kind: str
    advice: str

    def message(self, field: str = "the prompt") -> str:
        return f"{field} mentions {self.term!r}, {self.kind}; {self.advice}"


@dataclass
class PolicyRule:
    id: str
    kind: str
    advice: str
    terms: list[str] = field(default_factory=list)


def normalize(text: str) -> str:
    """Lower case, accents, apostrophes and invisible (format) characters dropped: 'Pokémon' ->
    'pokemon', "McDonald's" -> 'mcdonalds', 'Pik\u200bachu' -> 'pikachu'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")
    return re.sub(r"['’`]", "", plain.casefold())


def term_words(term: str) -> list[str]:
    return [word for word in re.split(r"[\s\-_.]+", normalize(term).strip()) if word]


def term_pattern(term: str) -> re.Pattern[str]:
    body = WORD_GAP.join(re.escape(word) for word in term_words(term))
    return re.compile(rf"(?<![a-z0-9]){body}(?:e?s)?(?![a-z0-9])")


def first_word(term: str) -> str:
    """The first word of a term, which its pattern (term_pattern) begins with."""
    words = term_words(term)
    return words[0] if words else ""


class PromptPolicy:
    """Checks prompts against the rules; `check` raises PolicyViolation naming the first hit."""

    def __init__(self, rules: list[PolicyRule], allowed: list[str] | None = None) -> None:
        allowed_keys = {normalize(term) for term in allowed or []}
        self._patterns: list[tuple[str, re.Pattern[str], PolicyHit]] = [
            (first_word(term), term_pattern(term), PolicyHit(term=term, rule=rule.id, kind=rule.kind, advice=rule.advice))
            for rule in rules
            for term in rule.terms
            if normalize(term) not in allowed_keys
        ]

    def findings(self, prompt: str) -> list[PolicyHit]:
        text = normalize(prompt)
        # a term's pattern starts with its first word as written: where that is not in the text
        # (nearly always), a substring test says so at a fraction of the regex's cost
        return [hit for first, pattern, hit in self._patterns if first in text and pattern.search(text)]

    def check(self, prompt: str, field: str = "the prompt") -> None:
        """PolicyViolation naming `field` and the first term found in `prompt`."""
        hits = self.findings(prompt)
        if hits:
            raise PolicyViolation(hits[0].message(field), hits)

    @property
    def term_count(self) -> int:
        return len(self._patterns)


def _merge(rules: dict[str, PolicyRule], data: dict[str, Any]) -> None:
    for raw in data.get("rules", []):
        rule = rules.get(raw["id"])
        if rule is None:
            rules[raw["id"]] = PolicyRule(id=raw["id"], kind=raw["kind"], advice=raw["advice"], terms=list(raw["terms"]))
        else:
            rule.terms.extend(raw.get("terms", []))


def load_policy(extra_file: Path | None = None) -> PromptPolicy:
    """The bundled policy, extended by `extra_file` (same JSON shape) when given."""
    bundled = json.loads(resources.files("core.catalog").joinpath("policy.json").read_text(encoding="utf-8"))
    rules: dict[str, PolicyRule] = {}
    _merge(rules, bundled)
    allowed = list(bundled.get("allowed", []))
    if extra_file is not None:
        try:
            extra = json.loads(extra_file.read_text(encoding="utf-8"))
            _merge(rules, extra)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"the policy file {extra_file} cannot be used: {exc!r}") from exc
        allowed.extend(extra.get("allowed", []))
    return PromptPolicy(list(rules.values()), allowed)
