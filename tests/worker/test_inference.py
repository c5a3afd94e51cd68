"""modal_app.inference on a tiny random Qwen-Image pipeline, loaded from disk like the real one."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import pytest
import torch
from PIL import Image

from core.worker_contract.engine import GenerationCanceled, InferenceRequest
from modal_app.engine_config import EngineConfig
from modal_app.inference import QwenImageEngine, select_attention
from modal_app.inference_errors import InvalidInferenceInput, ModelWeightsMissing, OptionalDependencyMissing
from modal_app.lightning_lora import LIGHTNING_SCHEDULER_CONFIG
from modal_app.model_files import describe_revision
from modal_app.nunchaku_transformer import UnsupportedGpu, check_nunchaku_gpu, nunchaku_precision
from tests.worker.conftest import TINY_MIN_SIDE
from tests.worker.tiny_qwen import build_tokenizer, save_random_lightning_lora

FOX = InferenceRequest(prompt="a red fox in the snow", negative_prompt="blurry", width=64, height=64, seed=7, steps=3)


# --- pure rules (fast) -------------------------------------------------------------------
def test_lightning_scheduler_config_is_the_one_its_readme_publishes():
    assert LIGHTNING_SCHEDULER_CONFIG["base_shift"] == LIGHTNING_SCHEDULER_CONFIG["max_shift"] == math.log(3)
    assert LIGHTNING_SCHEDULER_CONFIG["use_dynamic_shifting"] is True
    assert LIGHTNING_SCHEDULER_CONFIG["time_shift_type"] == "exponential"
    assert (LIGHTNING_SCHEDULER_CONFIG["base_image_seq_len"], LIGHTNING_SCHEDULER_CONFIG["max_image_seq_len"]) == (256, 8192)
    assert LIGHTNING_SCHEDULER_CONFIG["shift"] == 1.0 and LIGHTNING_SCHEDULER_CONFIG["shift_terminal"] is None


@pytest.mark.parametrize(("capability", "precision"), [((7, 5), "int4"), ((8, 0), "int4"), ((8, 9), "int4"),
                                                       ((12, 0), "fp4"), ((12, 1), "fp4")])
def test_nunchaku_uses_fp4_on_sm120_only_and_int4_on_the_other_gpus_it_supports(capability, precision):
    check_nunchaku_gpu(capability)
    assert nunchaku_precision(capability) == precision


@pytest.mark.parametrize("capability", [(9, 0), (10, 0)])
def test_nunchaku_is_refused_at_start_on_hopper_and_datacenter_blackwell(capability):
    with pytest.raises(UnsupportedGpu, match=r"do not run on .*sm (90|100)"):
        check_nunchaku_gpu(capability, "NVIDIA H100")


def test_a_hub_cache_snapshot_is_described_by_repo_and_commit(tmp_path):
    commit = "a" * 40
    snapshot = tmp_path / "models--Qwen--Qwen-Image" / "snapshots" / commit
    snapshot.mkdir(parents=True)
    assert describe_revision(snapshot, "Qwen/Qwen-Image") == f"Qwen/Qwen-Image@{commit}"
    assert describe_revision(tmp_path, "x") == f"local:{tmp_path.resolve()}"


def test_missing_weights_say_what_is_missing_and_how_to_fetch_it(tmp_path):
    engine = QwenImageEngine(EngineConfig(model="Qwen/Qwen-Image", cache_dir=tmp_path / "empty-cache"))
    with pytest.raises(ModelWeightsMissing) as caught:
        engine.load()
    message = str(caught.value)
    assert "Qwen/Qwen-Image" in message and str(tmp_path / "empty-cache") in message
    assert "hf download Qwen/Qwen-Image" in message and "--allow-download" in message
    assert not engine.is_loaded


def test_a_folder_that_is_not_a_pipeline_is_refused_with_the_reason(tmp_path):
    with pytest.raises(ModelWeightsMissing, match="model_index.json is missing"):
        QwenImageEngine(EngineConfig(model=str(tmp_path))).load()


def test_the_tiny_tokenizer_puts_the_prompt_right_after_the_template_prefix():
    # QwenImagePipeline drops the first 34 tokens (its template prefix) from the embeddings
    template = "<|im_start|>system\nDescribe the image by detailing the color, shape, size, texture, quantity, " \
               "text, spatial relationships of the objects and background:<|im_end|>\n<|im_start|>user\n{}" \
               "<|im_end|>\n<|im_start|>assistant\n"
    tokenizer = build_tokenizer()
    ids = tokenizer(template.format("zebra")).input_ids
    assert tokenizer.decode(ids[34:36]) == "ze"


# --- the tiny model (slow: builds and runs a pipeline) --------------------------------------
@pytest.mark.slow
def test_generates_a_64x64_png_with_its_seed_steps_timings_and_revision(tiny_engine, tiny_model_dir):
    result = tiny_engine.generate(FOX)
    with Image.open(io.BytesIO(result.png)) as image:
        assert (image.format, image.size, image.mode) == ("PNG", (64, 64), "RGB")
    assert (result.seed, result.steps, result.true_cfg_scale) == (7, 3, 4.0)
    timings = result.timings.as_dict()
    assert set(timings) == {"load_s", "text_encoding_s", "denoising_s", "vae_decode_s", "png_encode_s", "total_s"}
    assert all(value >= 0 for value in timings.values()) and timings["denoising_s"] > 0
    assert result.model_revision == f"local:{tiny_model_dir.resolve()}"


@pytest.mark.slow
def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(tiny_engine):
    first = tiny_engine.generate(FOX).png
    assert tiny_engine.generate(FOX).png == first
    assert tiny_engine.generate(replace(FOX, seed=8)).png != first


@pytest.mark.slow
def test_the_progress_callback_reports_every_step(tiny_engine):
    steps: list[tuple[int, int]] = []
    tiny_engine.generate(replace(FOX, steps=4), on_progress=lambda step, total: steps.append((step, total)))
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]


@pytest.mark.slow
def test_a_callback_that_cancels_stops_the_generation(tiny_engine):
    def cancel(step: int, total: int) -> None:
        raise GenerationCanceled("job canceled")

    with pytest.raises(GenerationCanceled):
        tiny_engine.generate(FOX, on_progress=cancel)
    assert tiny_engine.generate(FOX).png  # the engine is still usable afterwards


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"width": 72}, "`width` must be a multiple of 16"),
        ({"height": 100}, "`height` must be a multiple of 16"),
        ({"width": 48}, f"`width` must be a multiple of 16 between {TINY_MIN_SIDE} and 2048, got 48"),
        ({"height": 2064}, "`height` must be a multiple of 16 between 64 and 2048, got 2064"),
        ({"width": 64.0}, "`width` must be an integer"),
        ({"steps": 0}, "`steps` must be between 1 and 100"),
        ({"seed": -1}, "`seed` must be an integer between 0 and"),
        ({"prompt": "   "}, "`prompt` must be a non-empty string"),
        ({"true_cfg_scale": 0.5}, "`true_cfg_scale` must be between 1.0 and 20.0"),
    ],
)
def test_bad_inputs_raise_naming_the_parameter(tiny_engine, change, parameter):
    with pytest.raises(InvalidInferenceInput) as caught:
        tiny_engine.generate(replace(FOX, **change))
    assert parameter in str(caught.value)


@pytest.mark.slow
def test_without_cfg_no_negative_prompt_is_encoded_and_the_image_differs(tiny_engine):
    with_cfg = tiny_engine.generate(FOX)
    without = tiny_engine.generate(replace(FOX, true_cfg_scale=1.0))
    assert without.true_cfg_scale == 1.0 and without.png != with_cfg.png


@pytest.mark.slow
def test_lightning_fuses_its_lora_uses_its_scheduler_and_runs_its_step_count(tiny_model_dir, tmp_path, tiny_engine):
    pytest.importorskip("peft")
    lora = save_random_lightning_lora(tmp_path / "lightning", tiny_model_dir, "Qwen-Image-Lightning-4steps-V1.0.safetensors")
    engine = QwenImageEngine(EngineConfig(model=str(tiny_model_dir), min_side=TINY_MIN_SIDE, lightning=4,
                                          lightning_source=str(lora.parent)))
    engine.load()
    pipe = engine.pipeline
    assert pipe.scheduler.config["time_shift_type"] == "exponential" and pipe.scheduler.config["use_dynamic_shifting"]
    # fused: the weights moved, and no adapter layers are left to slow inference down
    assert not any("lora" in name for name in pipe.transformer.state_dict())
    base_q = tiny_engine.pipeline.transformer.transformer_blocks[0].attn.to_q.weight
    assert not torch.equal(pipe.transformer.transformer_blocks[0].attn.to_q.weight, base_q)
    steps: list[tuple[int, int]] = []
    result = engine.generate(replace(FOX, steps=50), on_progress=lambda s, t: steps.append((s, t)))
    assert (result.steps, result.true_cfg_scale, steps[-1]) == (4, 1.0, (4, 4))
    assert "+lightning:" in result.model_revision and result.model_revision.endswith("4steps-V1.0.safetensors")
    assert engine.model_name == "qwen-image-lightning-4step"


@pytest.mark.slow
def test_lightning_without_its_lora_file_says_which_file_is_missing(tiny_model_dir, tmp_path):
    pytest.importorskip("peft")
    engine = QwenImageEngine(EngineConfig(model=str(tiny_model_dir), lightning=8, lightning_source=str(tmp_path)))
    with pytest.raises(ModelWeightsMissing, match="Qwen-Image-Lightning-8steps-V1.1.safetensors"):
        engine.load()


@pytest.mark.slow
def test_nunchaku_without_the_package_is_a_clear_error(tiny_model_dir):
    try:
        import nunchaku  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("nunchaku is installed here")
    engine = QwenImageEngine(EngineConfig(model=str(tiny_model_dir), nunchaku=True))
    with pytest.raises(OptionalDependencyMissing) as caught:
        engine.load()
    assert "`nunchaku` package" in str(caught.value) and "without --nunchaku" in str(caught.value)


def test_a_config_with_an_unknown_lightning_step_count_is_refused():
    with pytest.raises(InvalidInferenceInput, match="`lightning` must be 4, 8 or None"):
        EngineConfig(lightning=6)  # type: ignore[arg-type]


def test_the_worker_default_accepts_sides_from_256_to_2048():
    assert EngineConfig().min_side == 256 and EngineConfig().max_side == 2048


@pytest.mark.slow
def test_the_snapshot_phase_reads_the_weights_and_the_lora_is_fused_only_once_placed(tiny_model_dir, tmp_path, tiny_engine):
    # without a GPU snapshot, Modal's snapshot phase sees no GPU: the weights wait in CPU
    # memory unfused, and `load` after the restore places them and fuses the LoRA there
    pytest.importorskip("peft")
    lora = save_random_lightning_lora(tmp_path / "lightning", tiny_model_dir, "Qwen-Image-Lightning-8steps-V1.1.safetensors")
    engine = QwenImageEngine(EngineConfig(model=str(tiny_model_dir), min_side=TINY_MIN_SIDE, lightning=8,
                                          lightning_source=str(lora.parent)))
    engine.load_for_snapshot()
    assert not engine.is_loaded and "lightning:" not in (engine.model_revision or "")
    engine.load()
    assert engine.is_loaded and "lightning:" in (engine.model_revision or "")
    assert engine.planned_steps(FOX) == 8 and engine.describe()["steps"] == 8
    assert engine.generate(FOX).steps == 8


def test_attention_auto_keeps_pytorch_sdpa_off_hopper_and_a_named_backend_that_cannot_load_is_an_error(tiny_engine):
    assert select_attention(tiny_engine.pipeline, "auto", torch.device("cpu")) == "native"
    with pytest.raises(RuntimeError, match="Flash Attention 3"):
        select_attention(tiny_engine.pipeline, "_flash_3", torch.device("cpu"))
    tiny_engine.pipeline.transformer.set_attention_backend("native")
