"""A stand-in for the Gemini API's model metadata endpoint (`GET /{version}/models/{model}`),
answering as Google does: 400 INVALID_ARGUMENT for an unknown key, 404 for an unknown model."""

from __future__ import annotations

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

GOOD_KEY = "AIza-test-key-that-works"
KNOWN_MODELS = {"gemini-2.5-flash"}


def fake_gemini_app() -> FastAPI:
    api = FastAPI()

    @api.get("/{version}/models/{model}")
    def get_model(version: str, model: str, x_goog_api_key: str = Header("")) -> JSONResponse:
        if x_goog_api_key != GOOD_KEY:
            return _error(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT")
        if model.removeprefix("models/") not in KNOWN_MODELS:
            return _error(404, f"models/{model} is not found for API version {version}", "NOT_FOUND")
        return JSONResponse({"name": f"models/{model}", "displayName": model, "inputTokenLimit": 1048576})

    return api


def _error(code: int, message: str, status: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "status": status}}, status_code=code)
