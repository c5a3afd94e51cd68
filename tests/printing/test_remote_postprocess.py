"""Print files made by the GPU worker's models (RemotePostprocessor), against the worker on loopback,
and the local path standing in when the worker's cutout fails its check or the worker cannot answer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from PIL import Image

from core.backends import print_processor_from_settings
from core.catalog import Catalog, Product
from core.generators import DraftGenerator, GenerationOutcome
from core.jobs.service import GenerateCommand, GenerationService
from core.parsing import LocalPromptParser
from core.printing.printfiles import MADE_BY_CHUNK, render_print_file
from core.printing.processors import LocalPrintProcessor, cutout_problem
from core.printing.remote import RemotePostprocessor
from modal_app.postprocess import PostprocessEngine
from modal_app.postprocess_job import PrintModels
from modal_app.worker_app import create_worker_app
from tests.support.apps import make_settings
from tests.support.png_files import opened
from tests.support.servers import LiveServer
from tests.worker.engines import FailingEngine
from tests.worker.tiny_print_models import design_png, save_print_models, tiny_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_print_models(tmp_path_factory.mktemp("print-models"))


def worker(models_dir: Path, secret: str, matting: str) -> LiveServer:
    """The worker app on loopback with the tiny print models (`ink`: a cutout that works, `empty`: none)."""
    engine = PostprocessEngine.from_config(tiny_config(models_dir, matting=matting))  # type: ignore[arg-type]
    app = create_worker_app(FailingEngine(RuntimeError("no generation here")), secret,
                            print_models=PrintModels.loaded(engine))
    return LiveServer(app)


@pytest.fixture
def good_worker(models_dir: Path, webhook_secret: str) -> Iterator[str]:
    with worker(models_dir, webhook_secret, "ink") as server:
        yield server.url


@pytest.fixture
def empty_cutout_worker(models_dir: Path, webhook_secret: str) -> Iterator[str]:
    with worker(models_dir, webhook_secret, "empty") as server:
        yield server.url


def small(product: Product) -> Product:
    """The product with a 100x130 px print area, so the tiny upscaler runs in a moment on a CPU."""
    return product.model_copy(update={"print_area_in": (1.0, 1.3), "dpi": 100})


def no_wait(_: int) -> float:
    return 0.0


def test_a_garment_print_file_is_cut_out_and_upscaled_on_the_worker(good_worker, webhook_secret, catalog: Catalog):
    shirt = small(catalog.product("t-shirt"))
    with closing(RemotePostprocessor(good_worker, webhook_secret, backoff=no_wait)) as with_worker:
        print_file = render_print_file(design_png((30, 40)), shirt, with_worker, job_id="job-1")
    image = opened(print_file.png)
    assert print_file.made_by == "worker: tiny matting cutout, tiny ESRGAN ×4 upscale"
    assert image.info[MADE_BY_CHUNK] == print_file.made_by
    assert (image.mode, image.size, print_file.background_removed) == ("RGBA", (100, 130), True)
    alpha = np.asarray(image.getchannel("A"))
    assert alpha[0, 0] == 0 and alpha[65, 50] == 255  # the background gone, the disc kept


def test_an_opaque_product_is_upscaled_on_the_worker_without_a_cutout(good_worker, webhook_secret, catalog: Catalog):
    poster = small(catalog.product("poster"))
    with closing(RemotePostprocessor(good_worker, webhook_secret, backoff=no_wait)) as with_worker:
        print_file = render_print_file(design_png((30, 40)), poster, with_worker)
    assert print_file.made_by == "worker: tiny ESRGAN ×4 upscale"
    assert opened(print_file.png).mode == "RGB" and not print_file.background_removed


def test_an_empty_cutout_from_the_worker_is_refused_and_the_local_path_makes_the_file(
    empty_cutout_worker, webhook_secret, catalog: Catalog
):
    shirt = small(catalog.product("t-shirt"))
    with closing(RemotePostprocessor(empty_cutout_worker, webhook_secret, backoff=no_wait)) as with_worker:
        print_file = render_print_file(design_png((30, 40)), shirt, with_worker)
    local = render_print_file(design_png((30, 40)), shirt, LocalPrintProcessor())
    assert print_file.made_by.startswith("local: flood-fill cutout, Lanczos upscale (the worker's cutout was refused: "
                                         "the cutout is empty: 0.0% of the pixels are opaque")
    assert opened(print_file.png).tobytes() == opened(local.png).tobytes()  # the local file, exactly
    assert print_file.background_removed and opened(print_file.png).info[MADE_BY_CHUNK] == print_file.made_by


def test_a_worker_that_cannot_answer_is_retried_then_the_file_is_made_locally(webhook_secret, catalog: Catalog):
    calls: list[int] = []
    flaky = FastAPI()

    @flaky.post("/postprocess")
    def overloaded() -> JSONResponse:
        calls.append(1)
        return JSONResponse({"detail": "no GPU free"}, status_code=503)

    with LiveServer(flaky) as server:
        with closing(RemotePostprocessor(server.url, webhook_secret, max_attempts=3, backoff=no_wait)) as with_worker:
            print_file = render_print_file(design_png((30, 40)), small(catalog.product("tote-bag")), with_worker)
    assert len(calls) == 3
    assert print_file.made_by.endswith("(the GPU worker answered 503: no GPU free (after 3 attempts))")
    assert print_file.made_by.startswith("local: flood-fill cutout")


def test_the_cutout_check_refuses_empty_full_and_mostly_soft_masks():
    def rgba(alpha: np.ndarray) -> Image.Image:
        image = Image.new("RGBA", (alpha.shape[1], alpha.shape[0]))
        image.putalpha(Image.fromarray(alpha.astype(np.uint8), mode="L"))
        return image

    subject = np.zeros((40, 40))
    subject[10:30, 10:30] = 255
    assert cutout_problem(rgba(subject)) is None
    assert "empty" in (cutout_problem(rgba(np.zeros((40, 40)))) or "")
    assert "removed nothing" in (cutout_problem(rgba(np.full((40, 40), 255))) or "")
    assert "no clear edge" in (cutout_problem(rgba(np.where(subject > 0, 255, 100))) or "")
    assert "no alpha" in (cutout_problem(Image.new("RGB", (4, 4))) or "")


def test_the_worker_makes_print_files_when_an_endpoint_is_set_unless_turned_off(tmp_path: Path, webhook_secret):
    remote = print_processor_from_settings(make_settings(tmp_path, MODAL_GENERATE_ENDPOINT="http://127.0.0.1:9"), webhook_secret)
    assert isinstance(remote, RemotePostprocessor)
    remote.close()
    off = make_settings(tmp_path, MODAL_GENERATE_ENDPOINT="http://127.0.0.1:9", TENKAIGEN_GPU_PRINT="off")
    assert isinstance(print_processor_from_settings(off, webhook_secret), LocalPrintProcessor)
    assert isinstance(print_processor_from_settings(make_settings(tmp_path), webhook_secret), LocalPrintProcessor)


def test_the_stored_print_file_says_the_worker_made_it_and_keeps_saying_so_when_reused(
    good_worker, webhook_secret, sqlite_store, local_store, catalog: Catalog
):
    with closing(RemotePostprocessor(good_worker, webhook_secret, backoff=no_wait)) as with_worker:
        service = GenerationService(
            jobs=sqlite_store, objects=local_store, parser=LocalPromptParser(catalog), generator=DraftGenerator({}),
            catalog=catalog, webhook_url="http://127.0.0.1:9/api/generate/webhook", printing=with_worker,
        )
        job = service.create_job("ana", GenerateCommand(prompt="a red disc", style="anime", product="sticker", seed=1))
        service.apply_outcome(GenerationOutcome(job_id=job.id, status="completed", seed=1,
                                                png=design_png(catalog.product("sticker").generation_size)))
        stored = service.files.print_file("ana", job.id)
        again = service.files.print_file("ana", job.id)
    # the sticker's 1328² design is larger than its 1200² print: the worker cuts out, Lanczos resizes
    assert stored.made_by == again.made_by == "worker: tiny matting cutout, Lanczos resize"
    assert stored.background_removed and (stored.width, stored.height) == (1200, 1200)
