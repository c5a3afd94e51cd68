"""Prompt parsing: free text to a structured brief."""

from core.parsing.base import PromptParser
from core.parsing.local import LocalPromptParser
from core.parsing.models import ParsedPrompt

__all__ = ["LocalPromptParser", "ParsedPrompt", "PromptParser"]
