"""Print files: the product's pixel size and DPI, transparency where the product needs it,
stored beside the image, and exposed at POST /api/generate/{job_id}/print-file."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from app import create_app
from core.catalog import Catalog
from core.generators import DraftGenerator, GenerationOutcome
from core.parsing import LocalPromptParser
from core.printing.printfiles import connected_to_border, render_print_file
from core.printing.stored import RENDER_SLOTS
from core.jobs.service import GenerateCommand, GenerationService
from core.storage import image_key
from tests.support.apps import make_settings
from tests.support.bad_pngs import garbled_png
from tests.support.servers import wait_until

BACKGROUND = (250, 248, 245)
INK = (200, 30, 60)


def design_png(size: tuple[int, int], background: tuple[int, int, int] = BACKGROUND) -> bytes:
    """A red disc on a plain near-white background, with a background-coloured dot inside it."""
    width, height = size
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    r = min(width, height) // 3
    cx, cy = width // 2, height // 2
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=INK)
    draw.ellipse((cx - r // 5, cy - r // 5, cx + r // 5, cy + r // 5), fill=background)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def noise_png(size: tuple[int, int]) -> bytes:
    pixels = np.random.default_rng(7).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def phys_chunk(png: bytes) -> tuple[int, int, int]:
    """(pixels per metre x, y, unit) straight from the PNG's pHYs chunk."""
    position = 8
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        data = png[position + 8:position + 8 + length]
        assert zlib.crc32(kind + data) == struct.unpack(">I", png[position + 8 + length:position + 12 + length])[0]
        if kind == b"pHYs":
            return struct.unpack(">IIB", data)
        if kind == b"IDAT":
            break  # pHYs must come before the image data
        position += 12 + length
    raise AssertionError("no pHYs chunk before IDAT")


def opened(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png))


# --- rendering -----------------------------------------------------------------------------------
def test_every_product_gets_its_print_size_and_dpi_written_into_phys(catalog: Catalog):
    for product in catalog.products.values():
        print_file = render_print_file(design_png(product.generation_size), product)
        image = opened(print_file.png)
        assert image.size == product.print_size_px == (print_file.width, print_file.height), product.id
        assert phys_chunk(print_file.png) == (round(product.dpi / 0.0254),) * 2 + (1,), product.id
        assert image.info["dpi"] == pytest.approx((product.dpi, product.dpi), abs=0.05), product.id
        assert image.info.get("icc_profile"), product.id  # sRGB, as print shops expect


def test_a_t_shirt_print_file_has_a_transparent_background_and_an_opaque_design(catalog: Catalog):
    shirt = catalog.product("t-shirt")
    print_file = render_print_file(design_png(shirt.generation_size), shirt)
    image = opened(print_file.png)
    assert print_file.background_removed and image.mode == "RGBA"
    alpha = np.asarray(image.getchannel("A"))
    h, w = alpha.shape
    assert alpha[0, 0] == alpha[0, -1] == alpha[-1, 0] == alpha[-1, -1] == 0
    assert alpha[h // 2 - h // 8, w // 2] == 255  # on the red disc
    assert alpha[h // 2, w // 2] == 255  # the background-coloured dot enclosed by the disc stays
    assert np.asarray(image.convert("RGB"))[h // 2 - h // 8, w // 2].tolist() == pytest.approx(list(INK), abs=2)


def test_the_cut_edge_is_feathered_not_jagged(catalog: Catalog):
    sticker = catalog.product("sticker")
    alpha = np.asarray(opened(render_print_file(design_png(sticker.generation_size), sticker).png).getchannel("A"))
    row = alpha[alpha.shape[0] // 2]
    partial = ((row > 0) & (row < 255)).sum()
    assert 2 <= partial <= 40  # a soft ramp a few pixels wide on each side, not a hard step


def test_a_design_without_a_plain_background_is_left_whole(catalog: Catalog):
    shirt = catalog.product("t-shirt")
    print_file = render_print_file(noise_png(shirt.generation_size), shirt)
    assert not print_file.background_removed
    assert opened(print_file.png).mode == "RGB"


def test_opaque_products_fill_edge_to_edge_or_pad_with_the_designs_own_colour(catalog: Catalog):
    poster = catalog.product("poster")
    poster_image = opened(render_print_file(design_png(poster.generation_size), poster).png)
    assert poster_image.mode == "RGB" and poster_image.size == (2700, 3600)

    mug = catalog.product("mug")  # the 1664x928 design is narrower than the 9x3.5 in wrap
    mug_image = np.asarray(opened(render_print_file(design_png(mug.generation_size), mug).png))
    assert mug_image.shape == (1050, 2700, 3)
    assert mug_image[525, 0].tolist() == list(BACKGROUND) and mug_image[525, -1].tolist() == list(BACKGROUND)


def test_the_flood_fill_follows_winding_paths_and_stops_at_walls():
    allowed = np.ones((9, 9), dtype=bool)
    allowed[2:7, 2:7] = False  # a wall...
    allowed[3:6, 3:6] = True  # ...around an enclosed room
    allowed[4, 2] = True  # with a door: the room is reached through it
    reached = connected_to_border(allowed)
    assert reached[4, 4] and reached[0, 0]
    allowed[4, 2] = False  # door shut: the room is no longer reached
    assert not connected_to_border(allowed)[4, 4]


# --- the service and the HTTP route -----------------------------------------------------------------
@pytest.fixture
def service(sqlite_store, object_store, catalog: Catalog) -> Iterator[GenerationService]:
    generator = DraftGenerator({})
    yield GenerationService(
        jobs=sqlite_store, objects=object_store, parser=LocalPromptParser(catalog), generator=generator,
        catalog=catalog, webhook_url="http://127.0.0.1:9/api/generate/webhook",
    )
    generator.close()


def completed_job(service: GenerationService, product: str) -> str:
    job = service.create_job("ana", GenerateCommand(prompt="a red disc", style="anime", product=product, seed=1))
    png = design_png(service.catalog.product(product).generation_size)
    service.apply_outcome(GenerationOutcome(job_id=job.id, status="completed", png=png, seed=1))
    return job.id


def test_the_print_file_is_stored_beside_the_image(service: GenerationService):
    job_id = completed_job(service, "tote-bag")
    stored = service.files.print_file("ana", job_id)
    assert stored.key == image_key(service.objects.prefix, "ana", job_id, "_print") == f"ai-generated/ana/{job_id}_print.png"
    assert stored.url == service.objects.public_url(stored.key)
    image = opened(service.objects.get(stored.key))
    assert image.size == (2250, 2250) and image.mode == "RGBA" and stored.background_removed
    assert service.objects.exists(image_key(service.objects.prefix, "ana", job_id))  # the image itself stays


@pytest.fixture
def client(tmp_path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client


def test_post_print_file_answers_its_url_size_and_dpi(client, tmp_path):
    accepted = client.post("/api/generate", json={"prompt": "a red fox", "style": "sticker", "product": "sticker", "seed": 3})
    job_id = accepted.json()["job_id"]
    wait_until(lambda: client.get(f"/api/generate/status/{job_id}").json()["status"] == "completed", what="draft job")
    response = client.post(f"/api/generate/{job_id}/print-file")
    assert response.status_code == 200
    body = response.json()
    assert body["print_file_url"] == f"http://testserver/media/ai-generated/local/{job_id}_print.png"
    assert (body["width"], body["height"], body["dpi"]) == (1200, 1200, 300)
    served = client.get(body["print_file_url"])
    assert served.status_code == 200 and opened(served.content).size == (1200, 1200)
    assert (tmp_path / "objects" / "ai-generated" / "local" / f"{job_id}_print.png").read_bytes() == served.content


def test_post_print_file_for_an_unknown_job_is_404(client):
    assert client.post("/api/generate/no-such-job/print-file").status_code == 404


def test_post_print_file_before_the_job_completes_is_409(client):
    job = client.app.state.services.generation.create_job("local", GenerateCommand(prompt="a cat", style="anime", product="mug"))
    response = client.post(f"/api/generate/{job.id}/print-file")
    assert response.status_code == 409 and "pending" in response.json()["detail"]


def completed_draft(client: TestClient) -> str:
    accepted = client.post("/api/generate", json={"prompt": "a red fox", "style": "sticker", "product": "sticker", "seed": 3})
    job_id = accepted.json()["job_id"]
    wait_until(lambda: client.get(f"/api/generate/status/{job_id}").json()["status"] == "completed", what="draft job")
    return job_id


def test_a_stored_image_that_cannot_be_read_answers_422_with_a_message_not_500(client, tmp_path):
    job_id = completed_draft(client)
    stored = tmp_path / "objects" / "ai-generated" / "local" / f"{job_id}.png"
    stored.write_bytes(garbled_png(*opened(stored.read_bytes()).size))  # damaged in storage
    response = client.post(f"/api/generate/{job_id}/print-file")
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"the stored image of job {job_id} cannot be printed: image could not be read")


def test_a_print_file_is_rendered_once_and_reused(client, tmp_path):
    job_id = completed_draft(client)
    first = client.post(f"/api/generate/{job_id}/print-file").json()
    print_path = tmp_path / "objects" / "ai-generated" / "local" / f"{job_id}_print.png"
    written = print_path.stat().st_ino
    with RENDER_SLOTS.hold(), RENDER_SLOTS.hold():  # no render slot free: only a stored file can answer
        again = client.post(f"/api/generate/{job_id}/print-file")
    assert again.status_code == 200 and again.json() == first
    assert print_path.stat().st_ino == written  # not written again


def test_renders_beyond_the_bound_answer_429_with_retry_after(client):
    job_id = completed_draft(client)
    with RENDER_SLOTS.hold(), RENDER_SLOTS.hold():
        busy = client.post(f"/api/generate/{job_id}/print-file")
        assert busy.status_code == 429 and busy.headers["retry-after"] == "2"
        assert "print files are being rendered at capacity" in busy.json()["detail"]
    assert client.post(f"/api/generate/{job_id}/print-file").status_code == 200


def test_a_print_file_of_an_outdated_size_is_rendered_again(service: GenerationService):
    job_id = completed_job(service, "sticker")
    job = service.jobs.get(job_id)
    key = image_key(service.objects.prefix, "ana", job_id, "_print")
    service.objects.put_png(key, design_png((100, 100)))  # from before the product's print size changed
    stored = service.files.print_file("ana", job_id)
    assert opened(service.objects.get(stored.key)).size == service.catalog.product(job.product).print_size_px
