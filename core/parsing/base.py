"""The PromptParser protocol."""

from __future__ import annotations

from typing import Protocol

from core.parsing.models import ParsedPrompt


class PromptParser(Protocol):
    def parse(self, prompt: str, style: str, product: str) -> ParsedPrompt:
        """Turn free text into a brief for `style` on `product` (both valid catalog ids)."""
        ...
