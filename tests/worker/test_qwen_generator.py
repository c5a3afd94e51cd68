"""The Modal deployment module imports and defines its app without Modal credentials."""

from __future__ import annotations

import pytest

modal = pytest.importorskip("modal")


def test_the_modal_app_defines_the_worker_class_the_download_and_the_smoke_test(monkeypatch):
    monkeypatch.delenv("MODAL_TOKEN_ID", raising=False)
    monkeypatch.delenv("MODAL_TOKEN_SECRET", raising=False)
    from modal_app import qwen_generator

    assert qwen_generator.app.name == "tenkaigen-qwen-generator"
    assert isinstance(qwen_generator.QwenGenerator, modal.Cls)
    assert isinstance(qwen_generator.download_weights, modal.Function)
    assert qwen_generator.main.info.function_name == "main"


def test_the_worker_loads_weights_from_the_volume_only():
    from modal_app import qwen_generator

    config = qwen_generator.engine_config()
    assert str(config.cache_dir) == qwen_generator.CACHE_DIR
    assert config.allow_download is False and config.model == "Qwen/Qwen-Image"
