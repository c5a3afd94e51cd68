"""LocalDiffusersGenerator: the worker's inference code in this process, through the Generator protocol."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from core.generators.base import GenerationOutcome, GenerationRequest
from core.generators.local_diffusers import LocalDiffusersGenerator
from core.jobs import JobStatus, NewJob
from core.parsing import LocalPromptParser, ParsedPrompt
from core.jobs.service import GenerationService
from modal_app.engine_config import qwen_image_engine
from tests.support.servers import wait_until

TINY_MIN_SIDE = 64


class RecordingSink:
    def __init__(self) -> None:
        self.outcomes: list[GenerationOutcome] = []
        self._lock = threading.Lock()

    def apply_outcome(self, outcome: GenerationOutcome) -> str:
        with self._lock:
            self.outcomes.append(outcome)
        return "applied"

    def finals(self) -> list[GenerationOutcome]:
        with self._lock:
            return [o for o in self.outcomes if o.status != "processing"]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.worker.tiny_qwen import save_tiny_pipeline

    return save_tiny_pipeline(tmp_path_factory.mktemp("models") / "tiny-qwen-image")


@pytest.fixture
def generator(tiny_model_dir: Path) -> Iterator[LocalDiffusersGenerator]:
    local = LocalDiffusersGenerator(qwen_image_engine(tiny_model_dir, min_side=TINY_MIN_SIDE))
    yield local
    local.close()


def request_for(job_id: str, brief: ParsedPrompt, **changes) -> GenerationRequest:
    values = {"job_id": job_id, "user_id": "local", "prompt": brief.prompt, "negative_prompt": brief.negative_prompt,
              "width": 64, "height": 64, "seed": 11, "steps": 3, "webhook_url": "unused", "brief": brief}
    values.update(changes)
    return GenerationRequest(**values)


@pytest.fixture
def brief(catalog) -> ParsedPrompt:
    return LocalPromptParser(catalog).parse("a paper crane over a lake", "watercolor", "poster")


def test_importing_the_generator_loads_neither_torch_nor_the_inference_code():
    code = ("import sys, core.generators.local_diffusers, core.generators; "
            "assert 'torch' not in sys.modules and 'modal_app.inference' not in sys.modules, 'eager import'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_a_job_reports_each_step_then_completes_with_its_png(generator, brief):
    sink = RecordingSink()
    generator.submit(request_for("job-1", brief), sink)
    wait_until(sink.finals, what="the outcome")
    *progress, final = sink.outcomes
    assert [(o.progress_step, o.progress_total) for o in progress] == [(1, 3), (2, 3), (3, 3)]
    assert (final.job_id, final.status, final.seed) == ("job-1", "completed", 11)
    with Image.open(io.BytesIO(final.png)) as image:
        assert (image.format, image.size) == ("PNG", (64, 64))
    assert {"text_encoding_s", "denoising_s", "vae_decode_s", "total_s"} <= set(final.timings)
    assert generator.model_name == "qwen-image"


@pytest.mark.slow
def test_jobs_run_one_at_a_time_in_the_order_they_came(generator, brief):
    sink = RecordingSink()
    for number in range(3):
        generator.submit(request_for(f"job-{number}", brief, seed=number), sink)
    wait_until(lambda: len(sink.finals()) == 3, what="three outcomes")
    order = [o.job_id for o in sink.outcomes]
    # each job's progress and result come before the next job's first step: never interleaved
    assert order == ["job-0"] * 4 + ["job-1"] * 4 + ["job-2"] * 4
    assert len({o.png for o in sink.finals()}) == 3


@pytest.mark.slow
def test_a_size_the_model_cannot_make_fails_the_job_naming_the_parameter(generator, brief):
    sink = RecordingSink()
    generator.submit(request_for("job-1", brief, height=90), sink)
    (final,) = wait_until(sink.finals, what="the outcome")
    assert (final.status, final.error) == ("failed", "`height` must be a multiple of 16 between 64 and 2048, got 90")


def test_a_model_that_cannot_load_fails_every_job_with_the_reason(tmp_path, brief):
    generator = LocalDiffusersGenerator(qwen_image_engine(tmp_path / "no-such-model"))
    try:
        sink = RecordingSink()
        generator.submit(request_for("job-1", brief), sink)
        (final,) = wait_until(sink.finals, what="the outcome")
    finally:
        generator.close()
    assert final.status == "failed"
    assert f"the model folder {tmp_path / 'no-such-model'} does not exist" in final.error


@pytest.mark.slow
def test_the_generation_service_stores_the_png_of_a_local_job(generator, sqlite_store, local_store, catalog):
    service = GenerationService(jobs=sqlite_store, objects=local_store, parser=LocalPromptParser(catalog),
                                generator=generator, catalog=catalog, webhook_url="unused")
    # a 64x64 job instead of the sticker's 1328x1328: the tiny model's time is all in the full-size VAE decode
    brief = service.parse("a paper crane", "watercolor", "sticker").model_copy(update={"width": 64, "height": 64})
    job = sqlite_store.create(NewJob(user_id="local", prompt="a paper crane", parsed_prompt=brief.model_dump(),
                                     style=brief.style, product=brief.product, width=64, height=64, seed=5,
                                     model=generator.model_name))
    sqlite_store.mark_processing(job.id)
    generator.submit(request_for(job.id, brief, seed=5), service)
    done = wait_until(lambda: (j := sqlite_store.get(job.id)).status is JobStatus.COMPLETED and j, what="completion")
    assert done.seed == 5 and done.model == "qwen-image"
    with Image.open(io.BytesIO(local_store.get(done.storage_key))) as image:
        assert image.size == (64, 64)
