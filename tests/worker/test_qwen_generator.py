"""The Modal deployment module: its app without Modal credentials, its deploy-time settings as a
container sees them, and its GPU method run in process by `.local()`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modal_app.deployment import BAKED_MARKER, DeploySettings, DeploySettingsError
from tests.support.servers import wait_until

modal = pytest.importorskip("modal")

ROOT = Path(__file__).resolve().parents[2]


def test_the_modal_app_defines_the_worker_class_the_download_and_the_smoke_test(monkeypatch):
    monkeypatch.delenv("MODAL_TOKEN_ID", raising=False)
    monkeypatch.delenv("MODAL_TOKEN_SECRET", raising=False)
    from modal_app import qwen_generator

    assert qwen_generator.app.name == "tenkaigen-qwen-generator"
    assert isinstance(qwen_generator.QwenGenerator, modal.Cls)
    assert isinstance(qwen_generator.download_weights, modal.Function)
    assert isinstance(qwen_generator.web, modal.Function)  # the CPU front door the app dispatches to
    assert qwen_generator.main.info.function_name == "main"


def test_the_worker_loads_weights_from_the_volume_only():
    from modal_app import qwen_generator

    config = qwen_generator.engine_config()
    assert str(config.cache_dir) == qwen_generator.CACHE_DIR
    assert config.allow_download is False and config.model == "Qwen/Qwen-Image"


# --- deploy-time settings reach the container ------------------------------------------------
DEPLOY_SHELL = {
    "TENKAIGEN_LIGHTNING": "4",
    "TENKAIGEN_MODEL_REVISION": "0123abcd",
    "TENKAIGEN_NUNCHAKU_WHEEL": "https://example.invalid/nunchaku-1.0.0+torch2.9-cp311-linux_x86_64.whl",
    "TENKAIGEN_MODAL_GPU": "L40S",
    "TENKAIGEN_MODAL_MAX_CONTAINERS": "6",
    "TENKAIGEN_ATTENTION": "native",
}

# what `modal deploy` does locally: import the module; the spy records what goes into image ENV
DEPLOY_SCRIPT = """
import json, modal
envs = []
original = modal.Image.env
def spy(self, variables):
    envs.append(dict(variables))
    return original(self, variables)
modal.Image.env = spy
from modal_app import qwen_generator as q
print(json.dumps({"envs": envs, "settings": q.SETTINGS.as_dict()}))
"""

# what Modal does in the container: import the module again, with only the image's ENV
CONTAINER_SCRIPT = """
import json
from modal_app import qwen_generator as q
config = q.engine_config()
print(json.dumps({"settings": q.SETTINGS.as_dict(), "revision": config.revision, "lightning": config.lightning,
                  "nunchaku": config.nunchaku}))
"""


def run_python(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", script], env={**base, **env}, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_the_deploying_shells_settings_are_baked_into_the_image_and_read_back_in_the_container():
    deployed = run_python(DEPLOY_SCRIPT, DEPLOY_SHELL)
    assert deployed.returncode == 0, deployed.stderr
    seen = json.loads(deployed.stdout.strip().splitlines()[-1])
    baked = [env for env in seen["envs"] if BAKED_MARKER in env]
    assert len(baked) == 2  # the GPU image and the front's image both carry them
    assert baked[0]["TENKAIGEN_LIGHTNING"] == "4" and baked[0]["TENKAIGEN_MODEL_REVISION"] == "0123abcd"

    # the container: none of the shell's variables, only the image ENV and Modal's marker
    inside = run_python(CONTAINER_SCRIPT, {**baked[0], "MODAL_IS_REMOTE": "1"})
    assert inside.returncode == 0, inside.stderr
    container = json.loads(inside.stdout.strip().splitlines()[-1])
    assert container["settings"] == seen["settings"]
    assert (container["revision"], container["lightning"], container["nunchaku"]) == ("0123abcd", 4, True)
    assert container["settings"]["max_containers"] == 6 and container["settings"]["gpu"] == "L40S"


def test_a_container_whose_image_carries_no_deploy_settings_refuses_to_start():
    inside = run_python(CONTAINER_SCRIPT, {"MODAL_IS_REMOTE": "1"})
    assert inside.returncode != 0
    assert "carries no deploy settings" in inside.stderr


@pytest.mark.parametrize(
    ("shell", "message"),
    [
        ({"TENKAIGEN_NUNCHAKU_WHEEL": "https://x/n.whl"}, "do not run on H100"),
        ({"TENKAIGEN_NUNCHAKU_WHEEL": "https://x/n.whl", "TENKAIGEN_MODAL_GPU": "B200"}, "sm 100"),
        ({"TENKAIGEN_LIGHTNING": "6"}, "TENKAIGEN_LIGHTNING must be 8, 4 or off"),
        ({"TENKAIGEN_MODAL_MAX_CONTAINERS": "0"}, "between 1 and 100"),
        ({"TENKAIGEN_MODAL_MIN_CONTAINERS": "5", "TENKAIGEN_MODAL_MAX_CONTAINERS": "2"}, "must not exceed"),
        ({"TENKAIGEN_ATTENTION": "flash9"}, "TENKAIGEN_ATTENTION must be one of"),
    ],
)
def test_a_deploy_that_cannot_run_is_refused_before_anything_builds(shell, message):
    with pytest.raises(DeploySettingsError, match=message):
        DeploySettings.from_environ(shell)


def test_the_default_deploy_is_the_fast_warm_path_with_a_cost_ceiling():
    settings = DeploySettings.from_environ({})
    assert (settings.lightning, settings.gpu, settings.attention) == (8, "H100", "auto")
    assert settings.max_containers > 1 and 60 <= settings.scaledown_window_s <= 120 and settings.min_containers == 0
    assert not settings.torch_compile and settings.first_block_cache == 0.0
    assert DeploySettings.from_environ({"TENKAIGEN_LIGHTNING": "off"}).lightning is None
    assert DeploySettings.from_environ(DeploySettings().image_env()) == DeploySettings()
    assert DeploySettings.from_environ({"TENKAIGEN_NUNCHAKU_WHEEL": "w", "TENKAIGEN_MODAL_GPU": "RTX-PRO-6000"}).nunchaku_precision == "fp4"
    assert DeploySettings.from_environ({"TENKAIGEN_NUNCHAKU_WHEEL": "w", "TENKAIGEN_MODAL_GPU": "L40S"}).nunchaku_precision == "int4"


# --- the GPU method's body, run by Modal's .local() on the tiny pipeline -----------------------
@pytest.mark.slow
def test_the_gpu_method_run_locally_posts_the_start_then_the_result(tiny_model_dir, webhook_secret, receiver, monkeypatch):
    from modal_app import qwen_generator
    from modal_app.engine_config import EngineConfig

    monkeypatch.setenv("TENKAIGEN_WEBHOOK_SECRET", webhook_secret)
    monkeypatch.setenv("TENKAIGEN_WEBHOOK_URL", receiver.url)
    monkeypatch.setattr(qwen_generator, "engine_config", lambda: EngineConfig(model=str(tiny_model_dir), min_side=64))
    payload = {"job_id": "local-1", "prompt": "a red fox", "width": 64, "height": 64, "seed": 5, "steps": 2}

    assert qwen_generator.QwenGenerator().run.local(payload) is True

    result = wait_until(receiver.delivered_result, timeout_s=60, what="the result webhook")
    assert (result.job_id, result.status) == ("local-1", "completed")
    first = receiver.progress()[0].payload.progress
    assert first is not None and (first.step, first.total) == (0, 2)
