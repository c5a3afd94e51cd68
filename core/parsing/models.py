"""The structured brief every parser returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from core.jobs.limits import MAX_STEPS


class ParsedPrompt(BaseModel):
    """A designer's idea turned into a brief the generator can run."""

    subject: str = Field(description="What the design shows, in a few words")
    style: str = Field(description="Style id from the catalog")
    colors: list[str] = Field(default_factory=list, description="Colour words or hex codes asked for")
    mood: str | None = Field(None, description="Overall feeling, e.g. 'playful', 'dark'")
    composition: str | None = Field(None, description="Layout hint, e.g. 'centered', 'full body'")
    product: str = Field(description="Product id from the catalog")
    aspect_ratio: str = Field(description="Generation aspect as 'W:H' pixels")
    width: int
    height: int
    prompt: str = Field(description="The final prompt sent to the image model")
    negative_prompt: str = Field(description="What the image model must avoid")
    steps: int | None = Field(None, ge=1, le=MAX_STEPS, description="Denoising steps asked for; None: the app's default")
    parser: Literal["local", "gemini"] = Field("local", description="Which parser wrote this brief")
    fallback_reason: str | None = Field(
        None, description="Why the local parser stood in for Gemini (error, timeout, bad answer); None otherwise"
    )
