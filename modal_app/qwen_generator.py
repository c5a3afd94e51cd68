"""TenkaiGen's GPU worker on Modal: the app `tenkaigen-qwen-generator`.

From the project's environment (`pip install -e '.[modal]'`, then `modal setup` once):

    modal run modal_app/qwen_generator.py::download_weights   # once: weights into the Volume
    modal run modal_app/qwen_generator.py --prompt "A dragon"  # smoke test, writes test_output.png
    modal deploy modal_app/qwen_generator.py                  # the endpoint for MODAL_GENERATE_ENDPOINT

The deployed class serves the worker app (`POST /generate` answers 202, the result comes back
as a signed webhook; `GET /health`). The secret `tenkaigen-secrets` carries
TENKAIGEN_WEBHOOK_SECRET and TENKAIGEN_WEBHOOK_URL, the same values the app uses.

Read when deploying (`TENKAIGEN_LIGHTNING=8 modal deploy ...`):
    TENKAIGEN_MODEL_REVISION   Qwen/Qwen-Image commit to load (pin it; download_weights prints it)
    TENKAIGEN_LIGHTNING        8 or 4: fuse the Qwen-Image-Lightning LoRA, run that many steps, no CFG
    TENKAIGEN_NUNCHAKU_WHEEL   URL of the Nunchaku wheel matching the torch below: enables the 4-bit transformer
    TENKAIGEN_NUNCHAKU_PRECISION  int4 (before Blackwell, the default) or fp4 (B200): what download_weights fetches
    TENKAIGEN_MODAL_GPU        GPU type (default H100: the bf16 model needs ~58 GB)
    TENKAIGEN_MODAL_MAX_CONTAINERS  cost ceiling (default 1)
"""

from __future__ import annotations

import os
from pathlib import Path

import modal

APP_NAME = "tenkaigen-qwen-generator"
MODEL_ID = "Qwen/Qwen-Image"
MODEL_REVISION = os.environ.get("TENKAIGEN_MODEL_REVISION") or None
LIGHTNING = int(os.environ["TENKAIGEN_LIGHTNING"]) if os.environ.get("TENKAIGEN_LIGHTNING") else None
NUNCHAKU_WHEEL = os.environ.get("TENKAIGEN_NUNCHAKU_WHEEL", "")
NUNCHAKU_PRECISION = os.environ.get("TENKAIGEN_NUNCHAKU_PRECISION", "int4")
GPU = os.environ.get("TENKAIGEN_MODAL_GPU", "H100")
MAX_CONTAINERS = int(os.environ.get("TENKAIGEN_MODAL_MAX_CONTAINERS", "1"))
CACHE_DIR = "/hf-cache"
MINUTES = 60

# --- the container image: pinned to the versions the test suite runs ------------------------
image = (
    modal.Image.debian_slim(python_version="3.11")
    .uv_pip_install(
        "torch==2.13.0",
        "diffusers==0.42.1",
        "transformers==5.24.0",
        "accelerate==1.15.0",
        "peft==0.21.2",
        "tokenizers==0.23.3",
        "safetensors==0.8.0",
        "huggingface_hub==2.4.0",
        "hf-xet==1.8.0",
        "numpy==2.4.6",
        "pillow==12.3.0",
        "fastapi==0.165.0",
        "pydantic==2.14.4",
        "httpx==0.28.1",
        "standardwebhooks==1.1.0",
    )
    .env({"HF_HUB_CACHE": CACHE_DIR, "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"})
)
if NUNCHAKU_WHEEL:
    image = image.uv_pip_install(NUNCHAKU_WHEEL)
image = image.add_local_python_source("core", "modal_app")

app = modal.App(APP_NAME, image=image)

# The weights (~58 GB) live in a Volume: fetched once by download_weights, read by every container.
hf_cache = modal.Volume.from_name("tenkaigen-hf-cache", create_if_missing=True)
secrets = modal.Secret.from_name("tenkaigen-secrets", required_keys=["TENKAIGEN_WEBHOOK_SECRET", "TENKAIGEN_WEBHOOK_URL"])

with image.imports():
    from core.worker_contract.engine import InferenceRequest
    from modal_app.engine_config import EngineConfig
    from modal_app.inference import QwenImageEngine
    from modal_app.lightning_lora import LIGHTNING_REPO, LIGHTNING_WEIGHTS
    from modal_app.nunchaku_transformer import NUNCHAKU_REPO, nunchaku_filename
    from modal_app.worker_app import create_worker_app


def engine_config() -> EngineConfig:
    return EngineConfig(
        model=MODEL_ID,
        revision=MODEL_REVISION,
        cache_dir=Path(CACHE_DIR),
        lightning=LIGHTNING,  # type: ignore[arg-type]
        nunchaku=bool(NUNCHAKU_WHEEL),
    )


@app.function(volumes={CACHE_DIR: hf_cache}, timeout=60 * MINUTES)
def download_weights() -> str:
    """Fetch the model (and the Lightning / Nunchaku files asked for) into the Volume; returns the commit."""
    from huggingface_hub import hf_hub_download, snapshot_download

    folder = Path(snapshot_download(MODEL_ID, revision=MODEL_REVISION, cache_dir=CACHE_DIR))
    if LIGHTNING and not NUNCHAKU_WHEEL:
        hf_hub_download(LIGHTNING_REPO, LIGHTNING_WEIGHTS[LIGHTNING], cache_dir=CACHE_DIR)
    if NUNCHAKU_WHEEL:
        filename = nunchaku_filename(NUNCHAKU_PRECISION, engine_config().nunchaku_rank, LIGHTNING)
        hf_hub_download(NUNCHAKU_REPO, filename, cache_dir=CACHE_DIR)
    hf_cache.commit()
    print(f"{MODEL_ID} is at commit {folder.name}: deploy with TENKAIGEN_MODEL_REVISION={folder.name} to pin it")
    return folder.name


# scaledown_window: a container costs GPU time while idle, and a cold start (~1-2 min to read
# 58 GB from the Volume) costs the user; 10 minutes keeps a warm GPU through a design session.
# It must also outlast the queue: jobs run in a background thread after the 202, and Modal
# counts a container idle once no request is open, so 16 queued jobs of ~30 s fit inside it.
# max_containers: a cost ceiling; the GPU work is serialized per container by the worker's queue.
@app.cls(
    gpu=GPU,
    volumes={CACHE_DIR: hf_cache},
    secrets=[secrets],
    scaledown_window=10 * MINUTES,
    timeout=10 * MINUTES,
    startup_timeout=20 * MINUTES,
    max_containers=MAX_CONTAINERS,
)
# Many inputs at once: each request is tiny (enqueue and 202, or /health), and the model must
# not be loaded once per request; one GPU job at a time is enforced by the worker's own queue.
@modal.concurrent(max_inputs=32)
class QwenGenerator:
    @modal.enter()
    def load(self) -> None:
        self.engine = QwenImageEngine(engine_config())
        self.engine.load()
        self.web_app = create_worker_app(
            self.engine,
            os.environ["TENKAIGEN_WEBHOOK_SECRET"],
            allowed_webhook_url=os.environ["TENKAIGEN_WEBHOOK_URL"],
        )

    @modal.asgi_app()
    def web(self):  # noqa: ANN201 (Modal inspects the returned ASGI app)
        return self.web_app

    @modal.method()
    def render(self, prompt: str, width: int = 1328, height: int = 1328, seed: int = 42, steps: int | None = None) -> bytes:
        """One PNG, synchronously (the smoke test; the app goes through the web endpoint)."""
        request = InferenceRequest(prompt=prompt, width=width, height=height, seed=seed, steps=steps)
        result = self.engine.generate(request)
        print(f"generated {width}x{height} seed={seed} steps={result.steps} timings={result.timings.as_dict()} "
              f"revision={result.model_revision}")
        return result.png

    @modal.exit()
    def drain(self) -> None:
        # jobs still queued get a failed webhook instead of hanging in processing
        self.web_app.state.worker.stop()


@app.local_entrypoint()
def main(prompt: str = "A dragon coiled around a mountain, ukiyo-e print", width: int = 1328, height: int = 1328,
         seed: int = 42, steps: int = 0, output: str = "test_output.png") -> None:
    png = QwenGenerator().render.remote(prompt=prompt, width=width, height=height, seed=seed, steps=steps or None)
    Path(output).write_bytes(png)
    print(f"wrote {output} ({len(png)} bytes)")
