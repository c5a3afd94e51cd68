"""A loopback stand-in for the Gemini REST API (`POST /{version}/models/{model}:generateContent`).

Each request takes the next scripted reply (then the default one): a good brief, any raw text,
an HTTP error in Google's error shape, or a reply held back longer than the client's timeout.
The google-genai SDK talks to it through `HttpOptions(base_url=...)`, as it would to a proxy.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

GOOD_BRIEF: dict[str, Any] = {
    "subject": "samurai cat",
    "colors": ["crimson", "gold"],
    "mood": "fierce",
    "composition": "centered",
    "prompt": "a fierce samurai cat in crimson armour, anime illustration, bold line art, gold accents",
    "negative_prompt": "blurry, extra limbs, watermark",
}
ERROR_STATUS = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 400: "INVALID_ARGUMENT"}


@dataclass(frozen=True)
class Reply:
    status: int = 200
    text: str | None = None  # the model's text; None: GOOD_BRIEF as JSON
    hold_s: float = 0.0  # answer only after this long (or when the stub is released)
    finish_reason: str = "STOP"


def answer(brief: dict[str, Any] | None = None) -> Reply:
    return Reply(text=json.dumps(brief or GOOD_BRIEF))


def raw_text(text: str) -> Reply:
    return Reply(text=text)


def error(status: int) -> Reply:
    return Reply(status=status)


def held(seconds: float) -> Reply:
    return Reply(hold_s=seconds)


def gemini_body(text: str, finish_reason: str = "STOP") -> dict[str, Any]:
    return {
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": finish_reason, "index": 0}],
        "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 60, "totalTokenCount": 180},
        "modelVersion": "stub",
    }


@dataclass
class GeminiStub:
    script: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=answer)
    requests: list[dict[str, Any]] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        """Let held replies finish (call before stopping the server)."""
        self.released.set()

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/{version}/models/{model_action}")
        async def generate_content(version: str, model_action: str, request: Request) -> JSONResponse:
            model, _, action = model_action.partition(":")
            self.requests.append({
                "version": version, "model": model, "action": action,
                "api_key": request.headers.get("x-goog-api-key"), "body": await request.json(),
            })
            reply = self.script.pop(0) if self.script else self.default
            if reply.hold_s:
                await self._hold(reply.hold_s)
            if reply.status != 200:
                status = ERROR_STATUS.get(reply.status, "UNKNOWN")
                body = {"error": {"code": reply.status, "message": f"stub {status}", "status": status}}
                return JSONResponse(body, status_code=reply.status)
            text = reply.text if reply.text is not None else json.dumps(GOOD_BRIEF)
            return JSONResponse(gemini_body(text, reply.finish_reason))

        return api

    async def _hold(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.released.is_set() and loop.time() < deadline:
            await asyncio.sleep(0.01)
