"""Vector files: the design in a few flat colours traced to SVG, the cutout's transparent
pixels left out, stored beside the image and exposed at POST /api/generate/{job_id}/vector."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from core.catalog import Catalog
from core.errors import InvalidRequest, JobNotFound
from core.jobs.service import GenerateCommand, GenerationService
from core.printing.printfiles import remove_background
from core.printing.stored import RENDER_SLOTS
from core.printing.vectors import render_vector_file
from tests.printing.designs import completed_draft, completed_job, design_png
from tests.support.svg_raster import SVG_NS, rasterize

SCALE = 0.25  # the SVGs are rasterized at a quarter of the design's size


def parsed(svg: bytes) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    return root


def fills(root: ET.Element) -> set[str]:
    return {path.attrib["fill"] for path in root.iter(f"{SVG_NS}path")}


def coverage(image: Image.Image) -> np.ndarray:
    return np.asarray(image.getchannel("A")) >= 128


# --- tracing -------------------------------------------------------------------------------------
def test_a_sticker_svg_covers_the_cutout_and_leaves_the_background_out(catalog: Catalog):
    sticker = catalog.product("sticker")
    png = design_png(sticker.generation_size)
    vector = render_vector_file(png, sticker, 4)
    root = parsed(vector.svg)
    assert root.attrib["viewBox"] == "0 0 1328 1328"
    assert (root.attrib["width"], root.attrib["height"]) == ("4.000in", "4.000in")  # the print area
    assert vector.paths == len(list(root.iter(f"{SVG_NS}path"))) >= 2
    assert 2 <= len(fills(root)) <= 4  # the disc's red and the enclosed dot's near-white

    drawn = coverage(rasterize(vector.svg, SCALE))
    cutout = remove_background(Image.open(io.BytesIO(png)).convert("RGB"))
    expected = coverage(cutout.resize(drawn.shape[::-1], Image.Resampling.BILINEAR))
    overlap = (drawn & expected).sum() / (drawn | expected).sum()
    assert overlap > 0.97, overlap
    assert not drawn[0, 0] and not drawn[-1, -1]  # the background is not in the file
    assert drawn[drawn.shape[0] // 2, drawn.shape[1] // 2]  # the dot enclosed by the disc is


def test_each_colour_of_the_svg_is_one_of_the_designs(catalog: Catalog):
    sticker = catalog.product("sticker")
    drawn = np.asarray(rasterize(render_vector_file(design_png(sticker.generation_size), sticker, 4).svg, SCALE))
    h, w = drawn.shape[:2]
    on_the_disc = drawn[h // 2 - h // 8, w // 2]
    assert on_the_disc[3] == 255 and np.abs(on_the_disc[:3].astype(int) - (200, 30, 60)).max() <= 6


def test_an_opaque_product_traces_the_whole_design_at_its_print_size(catalog: Catalog):
    mug = catalog.product("mug")  # 2048x800 (2.56:1) fitted inside the 9x3.5 in wrap (2.57:1): 3.5 in high
    width, height = mug.generation_size
    vector = render_vector_file(design_png(mug.generation_size), mug, 3)
    root = parsed(vector.svg)
    assert root.attrib["viewBox"] == f"0 0 {width} {height}" and root.attrib["height"] == "3.500in"
    assert coverage(rasterize(vector.svg, SCALE)).mean() > 0.99  # the background is printed too


def test_a_cover_product_crops_the_viewbox_to_its_print_area(catalog: Catalog):
    poster = catalog.product("poster").model_copy(update={"print_area_in": (18.0, 18.0)})
    root = parsed(render_vector_file(design_png((1104, 1472)), poster, 2).svg)
    assert root.attrib["viewBox"] == "0 184 1104 1104"
    assert (root.attrib["width"], root.attrib["height"]) == ("18.000in", "18.000in")


@pytest.mark.parametrize("colors", [1, 17])
def test_a_colour_count_out_of_range_is_refused(catalog: Catalog, colors: int):
    with pytest.raises(InvalidRequest, match="colors must be between 2 and 16"):
        render_vector_file(design_png((64, 64)), catalog.product("sticker"), colors)


def test_the_vector_bench_runs(catalog: Catalog):
    from bench.bench_vectors import run

    [timing] = run(runs=1, side=256, colors=(4,))
    assert timing.seconds > 0 and timing.paths > 0


# --- the service and the HTTP route ------------------------------------------------------------------
def test_the_svg_is_stored_beside_the_image_with_its_content_type(service: GenerationService):
    job_id = completed_job(service, "tote-bag", style="vintage-poster")
    stored = service.files.vector("ana", job_id)  # the style's colours
    assert stored.colors == service.catalog.style("vintage-poster").vector_colors == 4
    assert stored.key == f"ai-generated/ana/{job_id}_vector_4.svg"
    assert stored.paths == len(re.findall(r"<path\b", service.objects.get(stored.key).decode()))
    client = getattr(service.objects, "client", None)
    if client is not None:  # the bucket serves it as an SVG
        head = client.head_object(Bucket=service.objects.bucket, Key=stored.key)
        assert head["ContentType"] == "image/svg+xml"


def test_another_users_job_has_no_vector_file(service: GenerationService):
    job_id = completed_job(service, "sticker", style="sticker")
    with pytest.raises(JobNotFound):
        service.files.vector("bob", job_id, 4)


def test_post_vector_answers_the_svg_url_and_reuses_the_stored_file(client, tmp_path):
    job_id = completed_draft(client)
    response = client.post(f"/api/generate/{job_id}/vector", json={"colors": 6})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["svg_url"] == f"http://testserver/media/ai-generated/local/{job_id}_vector_6.svg"
    assert body["colors"] == 6 and body["paths"] > 0
    served = client.get(body["svg_url"])
    assert served.status_code == 200 and served.headers["content-type"].startswith("image/svg+xml")
    assert len(fills(parsed(served.content))) <= 6
    stored = tmp_path / "objects" / "ai-generated" / "local" / f"{job_id}_vector_6.svg"
    written = stored.stat().st_ino
    with RENDER_SLOTS.hold(), RENDER_SLOTS.hold():  # no slot free: only the stored file can answer
        again = client.post(f"/api/generate/{job_id}/vector", json={"colors": 6})
        busy = client.post(f"/api/generate/{job_id}/vector", json={"colors": 3})  # not traced yet
    assert again.status_code == 200 and again.json() == body and stored.stat().st_ino == written
    assert busy.status_code == 429 and busy.headers["retry-after"] == "2"


def test_post_vector_without_a_body_uses_the_styles_colours(client):
    job_id = completed_draft(client)
    response = client.post(f"/api/generate/{job_id}/vector")
    assert response.status_code == 200 and response.json()["colors"] == 4  # the sticker style's


def test_post_vector_refuses_unfinished_unknown_and_out_of_range(client):
    pending = client.app.state.services.generation.create_job(
        "local", GenerateCommand(prompt="a cat", style="anime", product="sticker"))
    not_done = client.post(f"/api/generate/{pending.id}/vector")
    assert not_done.status_code == 409 and "pending" in not_done.json()["detail"]
    assert client.post("/api/generate/no-such-job/vector").status_code == 404
    assert client.post(f"/api/generate/{pending.id}/vector", json={"colors": 40}).status_code == 422
