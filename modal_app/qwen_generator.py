"""TenkaiGen's GPU worker on Modal: the app `tenkaigen-qwen-generator`.

From the project's environment (`pip install -e '.[modal]'`, then `modal setup` once):

    modal run modal_app/qwen_generator.py::download_weights   # once: weights into the Volume
    modal run modal_app/qwen_generator.py::download_print_weights  # once: BiRefNet + Real-ESRGAN
    modal run modal_app/qwen_generator.py --prompt "A dragon"  # smoke test, writes test_output.png
    modal deploy modal_app/qwen_generator.py                  # `web`'s URL is MODAL_GENERATE_ENDPOINT

Two parts. `web` is a light CPU app (no GPU, no torch): it checks each dispatch's signature,
claims the job id in the `tenkaigen-job-calls` Dict (a repeated dispatch runs once), spawns
`QwenGenerator.run` and answers 202 at once, warm GPU or not; `POST /cancel` cancels the
job's call. `QwenGenerator` takes one job per container, so Modal's queue backlog is what
starts more GPUs, up to TENKAIGEN_MODAL_MAX_CONTAINERS. `POST /postprocess` waits for
`PrintPostprocessor.postprocess` (BiRefNet cutout, Real-ESRGAN upscale) on a small GPU of its
own (TENKAIGEN_MODAL_PRINT_GPU, L4), so print files never queue behind generation. The secret `tenkaigen-secrets` carries
TENKAIGEN_WEBHOOK_SECRET and TENKAIGEN_WEBHOOK_URL, the same values the app uses.

Read when deploying (`TENKAIGEN_LIGHTNING=off modal deploy ...`) and baked into the image,
since Modal imports this module again in each container without the deploying shell's
variables (modal_app/deployment.py; docs/configuration.md lists them):
TENKAIGEN_MODEL_REVISION, TENKAIGEN_LIGHTNING (8), TENKAIGEN_NUNCHAKU_WHEEL, TENKAIGEN_MODAL_GPU (H100),
TENKAIGEN_MODAL_MAX_CONTAINERS (4), TENKAIGEN_MODAL_MIN_CONTAINERS (0), TENKAIGEN_MODAL_SCALEDOWN_S (120),
TENKAIGEN_MODAL_JOB_TIMEOUT_S (600), TENKAIGEN_ATTENTION (auto), TENKAIGEN_TORCH_COMPILE, TENKAIGEN_FIRST_BLOCK_CACHE.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import modal

from modal_app.deployment import DeploySettings

APP_NAME = "tenkaigen-qwen-generator"
MODEL_ID = "Qwen/Qwen-Image"
SETTINGS = DeploySettings.for_this_process(os.environ)
CACHE_DIR = "/hf-cache"
MINUTES = 60

# --- the images: pinned to the versions the test suite runs ---------------------------------
WEB_PACKAGES = ("fastapi==0.165.0", "pydantic==2.14.4", "httpx==0.28.1", "standardwebhooks==1.1.0")
# Nunchaku publishes wheels for torch 2.7-2.9 only: its variant pins the newest of those.
TORCH = "torch==2.9.1" if SETTINGS.nunchaku else "torch==2.13.0"
TORCHVISION = "torchvision==0.24.1" if SETTINGS.nunchaku else "torchvision==0.28.0"
# BiRefNet's own code (trust_remote_code) imports timm, kornia and einops; spandrel reads Real-ESRGAN
PRINT_PACKAGES = (TORCHVISION, "spandrel==0.4.2", "einops==0.8.2", "timm==1.0.31", "kornia==0.9.0")

front_image = (
    modal.Image.debian_slim(python_version="3.11")
    .uv_pip_install(*WEB_PACKAGES)
    .env(SETTINGS.image_env())
    .add_local_python_source("core", "modal_app")
)
image = (
    modal.Image.debian_slim(python_version="3.11")
    .uv_pip_install(
        TORCH,
        "diffusers==0.42.1",
        "transformers==5.24.0",
        "accelerate==1.15.0",
        "peft==0.21.2",
        "tokenizers==0.23.3",
        "safetensors==0.8.0",
        "huggingface_hub==2.4.0",
        "hf-xet==1.8.0",
        "kernels==0.17.2",  # FlashAttention-3 for Hopper from the Hub (diffusers' `_flash_3_hub`)
        "numpy==2.4.6",
        "pillow==12.3.0",
        *PRINT_PACKAGES,
        *WEB_PACKAGES,
    )
    .env({"HF_HUB_CACHE": CACHE_DIR, "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"})
    .env(SETTINGS.image_env())
)
if SETTINGS.nunchaku:
    image = image.uv_pip_install(SETTINGS.nunchaku_wheel)
image = image.add_local_python_source("core", "modal_app")

app = modal.App(APP_NAME, image=image)

# The weights (~58 GB) live in a Volume: fetched once by download_weights, read by every container.
hf_cache = modal.Volume.from_name("tenkaigen-hf-cache", create_if_missing=True)
secrets = modal.Secret.from_name("tenkaigen-secrets", required_keys=["TENKAIGEN_WEBHOOK_SECRET", "TENKAIGEN_WEBHOOK_URL"])
# job id -> FunctionCall id, shared by every front container (entries idle for 7 days expire)
job_calls = modal.Dict.from_name("tenkaigen-job-calls", create_if_missing=True)

with image.imports():
    from core.worker_contract.engine import InferenceRequest
    from modal_app.engine_config import EngineConfig
    from modal_app.inference import QwenImageEngine
    from modal_app.lightning_lora import LIGHTNING_REPO, LIGHTNING_WEIGHTS
    from modal_app.nunchaku_transformer import NUNCHAKU_REPO, nunchaku_filename
    from modal_app.postprocess import PostprocessConfig, PostprocessEngine, upscaler_file
    from modal_app.postprocess_job import PrintModels, answer_postprocess
    from modal_app.spawned_job import run_spawned_job
    from modal_app.webhook_delivery import WebhookSender


def engine_config() -> EngineConfig:
    return EngineConfig(
        model=MODEL_ID,
        revision=SETTINGS.model_revision,
        cache_dir=Path(CACHE_DIR),
        lightning=SETTINGS.lightning,
        nunchaku=SETTINGS.nunchaku,
        device="cuda",
        attention=SETTINGS.attention,
        torch_compile=SETTINGS.torch_compile,
        first_block_cache=SETTINGS.first_block_cache,
    )


@app.function(volumes={CACHE_DIR: hf_cache}, timeout=60 * MINUTES)
def download_weights() -> str:
    """Fetch the model (and the Lightning / Nunchaku files asked for) into the Volume; returns the commit."""
    from huggingface_hub import hf_hub_download, snapshot_download

    folder = Path(snapshot_download(MODEL_ID, revision=SETTINGS.model_revision, cache_dir=CACHE_DIR))
    if SETTINGS.lightning and not SETTINGS.nunchaku:
        hf_hub_download(LIGHTNING_REPO, LIGHTNING_WEIGHTS[SETTINGS.lightning], cache_dir=CACHE_DIR)
    if SETTINGS.nunchaku:
        filename = nunchaku_filename(SETTINGS.nunchaku_precision, engine_config().nunchaku_rank, SETTINGS.lightning)
        hf_hub_download(NUNCHAKU_REPO, filename, cache_dir=CACHE_DIR)
    hf_cache.commit()
    print(f"{MODEL_ID} is at commit {folder.name}: deploy with TENKAIGEN_MODEL_REVISION={folder.name} to pin it")
    return folder.name


def print_config(allow_download: bool = False) -> PostprocessConfig:
    return PostprocessConfig(cache_dir=Path(CACHE_DIR), allow_download=allow_download, device="cuda")


@app.function(volumes={CACHE_DIR: hf_cache}, timeout=20 * MINUTES)
def download_print_weights() -> None:
    """Fetch BiRefNet (MIT, ~900 MB) and Real-ESRGAN x4plus (BSD-3, 67 MB) into the Volume."""
    from huggingface_hub import snapshot_download

    config = print_config(allow_download=True)
    folder = snapshot_download(config.segmenter, cache_dir=CACHE_DIR)
    weights = upscaler_file(config)
    hf_cache.commit()
    print(f"matting model at {folder}, upscaler at {weights}")


# One job per container (no @modal.concurrent): the queue's backlog is what scales the GPUs.
# retries: a crash or a preempted GPU runs the job again (results are applied idempotently);
# a job that fails for a reason the user can read returns normally with a failed webhook.
# Memory snapshots: the weights are read once at deploy, and each cold start restores them
# (with the GPU snapshot, straight into GPU memory) instead of reading 58 GB from the Volume.
@app.cls(
    gpu=SETTINGS.gpu,
    volumes={CACHE_DIR: hf_cache},
    secrets=[secrets],
    scaledown_window=SETTINGS.scaledown_window_s,
    min_containers=SETTINGS.min_containers,
    max_containers=SETTINGS.max_containers,
    timeout=SETTINGS.job_timeout_s,
    startup_timeout=20 * MINUTES,
    retries=modal.Retries(max_retries=2, initial_delay=5.0, backoff_coefficient=2.0),
    enable_memory_snapshot=True,
    experimental_options={"enable_gpu_snapshot": True},
)
class QwenGenerator:
    @modal.enter(snap=True)
    def read_weights(self) -> None:
        # CPU memory without the GPU snapshot; the GPU, LoRA fused, with it
        self.engine = QwenImageEngine(engine_config())
        self.engine.load_for_snapshot()

    @modal.enter(snap=False)
    def ready(self) -> None:
        self.engine.load()  # after a restore: to the GPU and fuse, unless the snapshot did it
        self.sender = WebhookSender(os.environ["TENKAIGEN_WEBHOOK_SECRET"])

    @modal.method()
    def run(self, payload: dict[str, Any]) -> bool:
        """One spawned job (the dispatch the front checked) to its webhook; True when it completed."""
        return run_spawned_job(self.engine, self.sender, payload, allowed_webhook_url=os.environ["TENKAIGEN_WEBHOOK_URL"])

    @modal.method()
    def render(self, prompt: str, width: int = 1328, height: int = 1328, seed: int = 42, steps: int | None = None) -> bytes:
        """One PNG, synchronously (the smoke test; the app goes through `web`)."""
        request = InferenceRequest(prompt=prompt, width=width, height=height, seed=seed, steps=steps)
        result = self.engine.generate(request)
        print(f"generated {width}x{height} seed={seed} steps={result.steps} timings={result.timings.as_dict()} "
              f"revision={result.model_revision} engine={self.engine.describe()}")
        return result.png

    @modal.exit()
    def close(self) -> None:
        self.sender.close()


# The print models on a small GPU of their own: a print file never waits behind a generation job,
# and a cold start loads ~1 GB, not 58. Each container takes a few requests at once (the models
# take turns, their memory is small).
@app.cls(
    gpu=SETTINGS.print_gpu,
    volumes={CACHE_DIR: hf_cache},
    scaledown_window=SETTINGS.scaledown_window_s,
    max_containers=SETTINGS.max_containers,
    timeout=5 * MINUTES,
)
@modal.concurrent(max_inputs=4)
class PrintPostprocessor:
    @modal.enter()
    def load(self) -> None:
        self.models = PrintModels.loaded(PostprocessEngine.from_config(print_config()))

    @modal.method()
    def postprocess(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One signed-and-checked post-processing request (the front checked it): (HTTP status, body)."""
        return answer_postprocess(self.models, payload)


class DictJobCalls:
    """The front's JobCalls over a `modal.Dict` (put-if-absent is `skip_if_exists`)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def claim(self, job_id: str) -> bool:
        from modal_app.dispatch_front import CLAIMED

        return bool(self._store.put(job_id, CLAIMED, skip_if_exists=True))

    def record(self, job_id: str, call_id: str) -> None:
        self._store.put(job_id, call_id)

    def call_of(self, job_id: str) -> str | None:
        return self._store.get(job_id) or None

    def release(self, job_id: str) -> None:
        self._store.pop(job_id, None)


def spawn_job(payload: dict[str, Any]) -> str:
    return QwenGenerator().run.spawn(payload).object_id


def cancel_call(call_id: str) -> None:
    modal.FunctionCall.from_id(call_id).cancel()


def gpu_queue_stats() -> Any:
    """The GPU class's queue now: inputs waiting and containers up (Modal 1.x `get_current_stats`)."""
    from modal_app.dispatch_front import QueueStats

    stats = QwenGenerator().run.get_current_stats()
    return QueueStats(backlog=int(stats.backlog), runners=int(stats.num_total_runners))


def postprocess_call(payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    code, body = PrintPostprocessor().postprocess.remote(payload)
    return code, body


@app.function(image=front_image, secrets=[secrets], scaledown_window=5 * MINUTES, timeout=60)
@modal.concurrent(max_inputs=100)  # each request is a signature check and a spawn
@modal.asgi_app()
def web():  # noqa: ANN201 (Modal inspects the returned ASGI app)
    from modal_app.dispatch_front import WorkerProfile, create_dispatch_app
    from modal_app.engine_config import default_steps, model_name_for

    return create_dispatch_app(
        os.environ["TENKAIGEN_WEBHOOK_SECRET"],
        spawn=spawn_job,
        cancel=cancel_call,
        calls=DictJobCalls(job_calls),
        profile=WorkerProfile(
            model=model_name_for(SETTINGS.lightning),
            steps=default_steps(SETTINGS.lightning),
            lightning=SETTINGS.lightning,
            engine={"gpu": SETTINGS.gpu, "max_containers": SETTINGS.max_containers, "nunchaku": SETTINGS.nunchaku,
                    "attention": SETTINGS.attention, "model_revision": SETTINGS.model_revision},
        ),
        allowed_webhook_url=os.environ["TENKAIGEN_WEBHOOK_URL"],
        postprocess=postprocess_call,
        gpu_stats=gpu_queue_stats,
    )


@app.local_entrypoint()
def main(prompt: str = "A dragon coiled around a mountain, ukiyo-e print", width: int = 1328, height: int = 1328,
         seed: int = 42, steps: int = 0, output: str = "test_output.png") -> None:
    png = QwenGenerator().render.remote(prompt=prompt, width=width, height=height, seed=seed, steps=steps or None)
    Path(output).write_bytes(png)
    print(f"wrote {output} ({len(png)} bytes)")
