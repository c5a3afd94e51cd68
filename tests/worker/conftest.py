"""The tiny Qwen-Image pipeline, saved once per session and loaded the way production loads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modal_app.engine_config import EngineConfig
from modal_app.inference import QwenImageEngine
from tests.support.servers import LiveServer
from tests.worker.receiver import HOOK_PATH, WebhookReceiver
from tests.worker.tiny_qwen import save_tiny_pipeline

TINY_MIN_SIDE = 64


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_pipeline(tmp_path_factory.mktemp("models") / "tiny-qwen-image")


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir: Path) -> QwenImageEngine:
    """Loaded from the saved folder through EngineConfig, as `--model PATH` does."""
    engine = QwenImageEngine(EngineConfig(model=str(tiny_model_dir), min_side=TINY_MIN_SIDE))
    engine.load()
    return engine


@pytest.fixture
def receiver(webhook_secret: str) -> Iterator[WebhookReceiver]:
    """A webhook endpoint on loopback that checks signatures and keeps what it receives."""
    hooks = WebhookReceiver(secret=webhook_secret)
    with LiveServer(hooks.app()) as server:
        hooks.url = server.url + HOOK_PATH
        yield hooks


@pytest.fixture(scope="session")
def print_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny matting models and Real-ESRGAN state dicts, saved once per session."""
    from tests.worker.tiny_print_models import save_print_models

    return save_print_models(tmp_path_factory.mktemp("print-models"))
