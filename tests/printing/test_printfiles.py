"""Print files: the product's pixel size and DPI, transparency where the product needs it,
stored beside the image, and exposed at POST /api/generate/{job_id}/print-file."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from core.catalog import Catalog
from core.printing.printfiles import connected_to_border, render_print_file
from core.printing.stored import RENDER_SLOTS
from core.jobs.service import GenerateCommand, GenerationService
from core.storage import image_key
from tests.support.bad_pngs import garbled_png
from tests.printing.designs import BACKGROUND, INK, completed_draft, completed_job, design_png
from tests.support.png_files import opened, png_chunks

def noise_png(size: tuple[int, int]) -> bytes:
    pixels = np.random.default_rng(7).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def phys_chunk(png: bytes) -> tuple[int, int, int]:
    """(pixels per metre x, y, unit) straight from the PNG's pHYs chunk."""
    for kind, data in png_chunks(png):
        if kind == b"pHYs":
            return struct.unpack(">IIB", data)
        if kind == b"IDAT":
            break  # pHYs must come before the image data
    raise AssertionError("no pHYs chunk before IDAT")


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
def test_the_print_file_is_stored_beside_the_image(service: GenerationService):
    job_id = completed_job(service, "tote-bag")
    stored = service.files.print_file("ana", job_id)
    assert stored.key == image_key(service.objects.prefix, "ana", job_id, "_print") == f"ai-generated/ana/{job_id}_print.png"
    assert stored.url == service.objects.public_url(stored.key)
    image = opened(service.objects.get(stored.key))
    assert image.size == (2250, 2250) and image.mode == "RGBA" and stored.background_removed
    assert service.objects.exists(image_key(service.objects.prefix, "ana", job_id))  # the image itself stays


def test_post_print_file_answers_its_url_size_and_dpi(client, tmp_path):
    job_id = completed_draft(client)
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
