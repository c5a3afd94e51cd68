"""The print models on the worker: the engine on tiny saved models, and the signed `POST /postprocess` route.

The matting model folder and the Real-ESRGAN state dict are loaded through the production
loaders (`AutoModelForImageSegmentation.from_pretrained(..., trust_remote_code=True)`, spandrel);
nothing is downloaded.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response

from core.worker_contract.messages import PostprocessResult
from core.worker_contract.webhooks import SignedRequestAuth
from modal_app.inference_errors import ModelWeightsMissing
from modal_app.postprocess import PostprocessConfig, PostprocessEngine, upscaler_file
from modal_app.postprocess_job import PrintModels
from modal_app.worker_app import create_worker_app
from tests.support.png_files import opened
from tests.support.servers import LiveServer
from tests.worker.engines import FailingEngine
from tests.worker.tiny_print_models import design_png, tiny_config


@pytest.fixture(scope="module")
def engine(print_models_dir: Path) -> PostprocessEngine:
    return PostprocessEngine.from_config(tiny_config(print_models_dir))


# --- the engine ------------------------------------------------------------------------------
def test_cutout_returns_an_rgba_png_of_the_same_size(engine: PostprocessEngine):
    result = opened(engine.cutout(design_png((40, 56))))
    assert (result.format, result.mode, result.size) == ("PNG", "RGBA", (40, 56))


def test_upscale_returns_exactly_the_asked_size_keeping_the_alpha(engine: PostprocessEngine):
    up = opened(engine.upscale(design_png((32, 40)), 101, 127))
    assert (up.mode, up.size) == ("RGB", (101, 127))
    rgba = opened(engine.upscale(engine.cutout(design_png((32, 40))), 90, 110))
    assert (rgba.mode, rgba.size) == ("RGBA", (90, 110))
    down = opened(engine.upscale(design_png((32, 40)), 16, 20))  # smaller: Lanczos alone
    assert down.size == (16, 20)


def test_run_cuts_out_then_upscales_and_says_what_made_it(print_models_dir: Path):
    engine = PostprocessEngine.from_config(tiny_config(print_models_dir, matting="ink", scale=2))
    output = engine.run(design_png((32, 40)), ["cutout", "upscale"], 60, 75)
    image = opened(output.png)
    assert (image.mode, image.size) == ("RGBA", (60, 75))
    assert output.made_by == "worker: tiny matting cutout, tiny ESRGAN ×2 upscale"
    assert 0.1 < (output.alpha_coverage or 0) < 0.9  # the disc kept, the background gone
    alpha = image.getchannel("A")
    assert alpha.getpixel((0, 0)) < 16 and alpha.getpixel((30, 37)) > 240
    assert {"cutout_s", "upscale_s"} <= set(output.timings)


def test_an_operation_the_engine_does_not_know_is_refused_by_name(engine: PostprocessEngine):
    from modal_app.inference_errors import InvalidInferenceInput

    with pytest.raises(InvalidInferenceInput, match="operations"):
        engine.run(design_png(), ["sharpen"], 64, 64)
    with pytest.raises(InvalidInferenceInput, match="`image`"):
        engine.run(b"not a png", ["upscale"], 64, 64)


def test_missing_weights_name_what_is_missing_and_how_to_fetch_it(tmp_path: Path, print_models_dir: Path):
    with pytest.raises(ModelWeightsMissing, match=r"(?s)nowhere.*hf download"):
        PostprocessEngine.from_config(PostprocessConfig(segmenter=str(tmp_path / "nowhere"), upscaler=None))
    with pytest.raises(ModelWeightsMissing, match=r"(?s)not in .*downloads are off.*hf download ZhengPeng7/BiRefNet"):
        PostprocessEngine.from_config(PostprocessConfig(cache_dir=tmp_path, upscaler=None))
    with pytest.raises(ModelWeightsMissing, match=r"(?s)RealESRGAN_x4plus.pth.*curl -L https://github.com/xinntao"):
        upscaler_file(PostprocessConfig(cache_dir=tmp_path))
    with pytest.raises(ModelWeightsMissing, match="config.json"):
        PostprocessEngine.from_config(PostprocessConfig(segmenter=str(tmp_path), upscaler=None))


# --- the route under uvicorn -------------------------------------------------------------------
def postprocess_body(**changes: Any) -> dict[str, Any]:
    body = {"job_id": uuid.uuid4().hex, "image_base64": base64.b64encode(design_png((32, 40))).decode(),
            "operations": ["cutout", "upscale"], "width": 50, "height": 62}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def serve(secret: str, models: PrintModels | None) -> LiveServer:
    return LiveServer(create_worker_app(FailingEngine(RuntimeError("no generation here")), secret, print_models=models))


@pytest.mark.slow
def test_a_signed_postprocess_request_is_answered_with_the_png_at_the_asked_size(engine, webhook_secret):
    with serve(webhook_secret, PrintModels.loaded(engine)) as server, httpx.Client(
        base_url=server.url, timeout=60, auth=SignedRequestAuth(webhook_secret)
    ) as http:
        answer = http.post("/postprocess", json=postprocess_body())
    assert answer.status_code == 200, answer.text
    result = PostprocessResult.model_validate(answer.json())
    image = opened(base64.b64decode(result.image_base64 or ""))
    assert (image.mode, image.size, result.width, result.height) == ("RGBA", (50, 62), 50, 62)
    assert result.made_by.startswith("worker: tiny matting cutout")


@pytest.mark.slow
def test_postprocess_refuses_unsigned_and_forged_requests(engine, webhook_secret):
    from core.worker_contract.webhooks import generate_webhook_secret

    with serve(webhook_secret, PrintModels.loaded(engine)) as server:
        unsigned = httpx.post(server.url + "/postprocess", json=postprocess_body(), timeout=10)
        forged = httpx.post(server.url + "/postprocess", json=postprocess_body(), timeout=10,
                            auth=SignedRequestAuth(generate_webhook_secret()))
    assert unsigned.status_code == forged.status_code == 401


@pytest.mark.slow
def test_postprocess_answers_422_for_a_bad_body_and_503_without_models(tmp_path: Path, webhook_secret):
    signed = SignedRequestAuth(webhook_secret)
    missing = PrintModels(lambda: PostprocessEngine.from_config(PostprocessConfig(segmenter=str(tmp_path / "none"))))
    with serve(webhook_secret, missing) as server:
        both = httpx.post(server.url + "/postprocess", json=postprocess_body(image_url="https://x.test/a.png"),
                          auth=signed, timeout=10)
        no_weights = httpx.post(server.url + "/postprocess", json=postprocess_body(), auth=signed, timeout=10)
    with serve(webhook_secret, None) as server:
        no_models = httpx.post(server.url + "/postprocess", json=postprocess_body(), auth=signed, timeout=10)
    assert both.status_code == 422 and "exactly one" in both.text
    assert no_weights.status_code == 503 and "hf download" in no_weights.json()["detail"]
    assert no_models.status_code == 503


@pytest.mark.slow
def test_postprocess_fetches_an_image_url_and_puts_the_result_to_the_upload_url(engine, webhook_secret):
    stored: dict[str, bytes] = {}
    bucket = FastAPI()

    @bucket.get("/design.png")
    def design() -> Response:
        return Response(design_png((32, 40)), media_type="image/png")

    @bucket.put("/print.png")
    async def put(request: Request) -> Response:
        stored["print.png"] = await request.body()
        return Response(status_code=200)

    with LiveServer(bucket) as files, serve(webhook_secret, PrintModels.loaded(engine)) as server:
        body = postprocess_body(image_base64=None, image_url=files.url + "/design.png", operations=["upscale"],
                                upload={"url": files.url + "/print.png", "headers": {"Content-Type": "image/png"}})
        answer = httpx.post(server.url + "/postprocess", json=body, auth=SignedRequestAuth(webhook_secret), timeout=60)
    assert answer.status_code == 200, answer.text
    result = PostprocessResult.model_validate(answer.json())
    assert result.image_base64 is None and result.image is not None and result.image.bytes == len(stored["print.png"])
    assert opened(stored["print.png"]).size == (50, 62)


# --- the benchmark ---------------------------------------------------------------------------------
def test_the_full_size_bench_upscaler_has_real_esrgan_x4plus_parameter_count():
    from bench.bench_postprocess import REALESRGAN_X4PLUS
    from tests.worker.tiny_print_models import tiny_rrdbnet_state_dict

    sizes = {key: value for key, value in REALESRGAN_X4PLUS.items() if key != "scale"}
    state = tiny_rrdbnet_state_dict(REALESRGAN_X4PLUS["scale"], **sizes)
    assert round(sum(tensor.numel() for tensor in state.values()) / 1e6, 1) == 16.7  # RealESRGAN_x4plus.pth


@pytest.mark.slow
def test_the_tiny_bench_run_times_cutout_and_upscale_to_the_print_size():
    from bench.bench_postprocess import parse_args, run

    report = run(parse_args(["--tiny", "--runs", "1"]))
    assert (report["device"], report["print"]) == ("cpu", "180x225")
    assert {"cutout_s", "upscale_s", "png_encode_s"} == set(report["stages_mean_s"])
    assert report["made_by"] == "worker: stand-in matting cutout, tiny ESRGAN ×4 upscale"


# --- on Modal: the dispatch front waits for the print-model class -----------------------------------
@pytest.mark.slow
def test_the_modal_front_hands_a_signed_postprocess_request_to_the_print_class_and_answers_its_result(
    engine, webhook_secret
):
    from modal_app.dispatch_front import InMemoryJobCalls, WorkerProfile, create_dispatch_app
    from modal_app.postprocess_job import answer_postprocess

    calls: list[str] = []

    def print_class(payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # PrintPostprocessor.postprocess.remote
        calls.append(payload["job_id"])
        return answer_postprocess(PrintModels.loaded(engine), payload)

    def front(postprocess: Any) -> LiveServer:
        return LiveServer(create_dispatch_app(
            webhook_secret, spawn=lambda _: "call", cancel=lambda _: None, calls=InMemoryJobCalls(),
            profile=WorkerProfile(model="qwen-image", steps=8, lightning=8), postprocess=postprocess,
        ))

    signed = SignedRequestAuth(webhook_secret)
    body = postprocess_body(operations=["upscale"])
    with front(print_class) as server:
        answer = httpx.post(server.url + "/postprocess", json=body, auth=signed, timeout=60)
        unsigned = httpx.post(server.url + "/postprocess", json=body, timeout=10)
    with front(None) as server:
        unserved = httpx.post(server.url + "/postprocess", json=body, auth=signed, timeout=10)
    assert answer.status_code == 200 and calls == [body["job_id"]]
    assert opened(base64.b64decode(answer.json()["image_base64"])).size == (50, 62)
    assert unsigned.status_code == 401 and unserved.status_code == 503
