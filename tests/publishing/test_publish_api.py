"""From a completed design to a product in the store over the HTTP API, against a loopback
Printful that checks the token and store header, fetches every print file from moto's S3 server
and checks it is a PNG of the print size."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from core.jobs import NewJob
from core.publishing import service as publishing_service
from core.publishing.service import _print_file_passes
from tests.publishing.conftest import SHIRT_PRINT_SIZE, STORE_ID, TOKEN, ShopWorld, shop_settings, unique_prompt
from tests.support.printful_stub import Scripted
from tests.support.servers import free_port

pytestmark = pytest.mark.slow  # moto's S3 server and a Printful stand-in


def paths(world: ShopWorld) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in world.stub.requests]


def test_a_t_shirt_with_two_variants_goes_from_design_to_the_store(world: ShopWorld):
    shop = world.open_shop()
    job_id = shop.completed_job()
    api = shop.client

    offered = api.get(f"/api/generate/{job_id}/variants")
    assert offered.status_code == 200, offered.text
    body = offered.json()
    assert {(v["color"], v["size"]) for v in body["variants"]} >= {("White", "S"), ("Black", "M")}
    assert body["default_variant_ids"] == [4012] and body["suggested_retail_price"] == "26.99"
    assert body["published"] is None

    queued = api.post(f"/api/generate/{job_id}/mockups", json={"variant_ids": [4017, 4011]})
    assert queued.status_code == 202, queued.text
    assert queued.json() == {"job_id": job_id, "status": "pending", "mockups": [], "error": None}

    shop.run_queue()  # submits: Printful fetches the print file from the bucket
    [fetched] = world.stub.fetched
    assert fetched["ok"], fetched
    assert fetched["url"].startswith(shop.services.settings.b2_s3_endpoint) and fetched["url"].endswith("_print.png")
    task_body = json.loads(next(r["body"] for r in world.stub.requests if r["path"].startswith("/mockup-generator/create")))
    assert task_body["variant_ids"] == [4011, 4017]
    assert task_body["files"][0]["placement"] == "front"
    assert task_body["files"][0]["position"] == {"area_width": 1800, "area_height": 2400, "width": 1800,
                                                 "height": 2400, "top": 0, "left": 0}

    world.clock.advance(5)
    shop.run_queue()  # too early: Printful asks for the first check after a delay
    assert "GET /mockup-generator/task" not in paths(world)
    assert api.get(f"/api/generate/{job_id}/mockups").json()["status"] == "pending"
    for _ in range(2):  # the stand-in completes a task on its second poll
        world.clock.advance(10)
        shop.run_queue()
    done = api.get(f"/api/generate/{job_id}/mockups").json()
    assert done["status"] == "completed" and done["error"] is None
    [mockup] = done["mockups"]
    assert mockup["variant_ids"] == [4011, 4017] and mockup["url"].endswith(".png")

    published = api.post(f"/api/generate/{job_id}/publish", json={"variant_ids": [4011, 4017], "retail_price": "24.00"})
    assert published.status_code == 200, published.text
    product = published.json()
    assert product["url"] == f"https://www.printful.com/dashboard/sync/update?id={product['product_id']}"
    assert product["name"].endswith("— T-shirt") and product["retail_price"] == "24.00"

    [made] = world.stub.store_products.values()
    assert made["id"] == product["product_id"] and made["thumbnail_url"] == mockup["url"]
    assert [v["variant_id"] for v in made["sync_variants"]] == [4011, 4017]
    assert {v["retail_price"] for v in made["sync_variants"]} == {"24.00"}
    assert {f["type"] for v in made["sync_variants"] for f in v["files"]} == {"front"}
    assert all(f["ok"] for f in world.stub.fetched) and len(world.stub.fetched) == 2
    # every call carried the token and the store header
    assert {(r["authorization"], r["store_id"]) for r in world.stub.requests
            if not r["path"].startswith("/mockups/")} == {(f"Bearer {TOKEN}", STORE_ID)}
    # stored with the job: the variants answer and another process see it
    assert api.get(f"/api/generate/{job_id}/variants").json()["published"]["product_id"] == product["product_id"]
    other = world.open_shop()
    assert other.services.publishing.published(shop.user, [job_id])[job_id].sync_product_id == product["product_id"]


def test_a_repeated_publish_creates_one_product(world: ShopWorld):
    shop = world.open_shop()
    job_id = shop.completed_job(unique_prompt())
    first = shop.client.post(f"/api/generate/{job_id}/publish", json={"variant_ids": [4011, 4016], "retail_price": "24.00"})
    again = shop.client.post(f"/api/generate/{job_id}/publish", json={"variant_ids": [4016, 4011], "retail_price": "25.00"})
    elsewhere = world.open_shop().client.post(f"/api/generate/{job_id}/publish",
                                              json={"variant_ids": [4011, 4016], "retail_price": "24.00"})
    assert first.status_code == again.status_code == elsewhere.status_code == 200, first.text
    assert first.json() == again.json() == elsewhere.json()
    assert len(world.stub.store_products) == 1
    other_set = shop.client.post(f"/api/generate/{job_id}/publish", json={"variant_ids": [4013], "retail_price": "24.00"})
    assert other_set.status_code == 200 and other_set.json()["product_id"] != first.json()["product_id"]
    assert len(world.stub.store_products) == 2


def test_printful_refusing_the_product_answers_503_with_its_reason_and_stores_nothing(world: ShopWorld):
    shop = world.open_shop()
    job_id = shop.completed_job(unique_prompt())
    assert shop.client.get(f"/api/generate/{job_id}/variants").status_code == 200
    # the look-up by our external id passes, the create is refused
    world.stub.script.extend([Scripted(), Scripted(status=400, message="Sync variant retail price is invalid")])
    refused = shop.client.post(f"/api/generate/{job_id}/publish", json={"variant_ids": [4012], "retail_price": "24.00"})
    assert refused.status_code == 503
    assert "Sync variant retail price is invalid" in refused.json()["detail"] and TOKEN not in refused.text
    assert shop.services.publishing.store.published_products([job_id]) == {}
    assert world.stub.store_products == {}
    # nothing half-stored: the same publish goes through once Printful takes it
    retried = shop.client.post(f"/api/generate/{job_id}/publish", json={"variant_ids": [4012], "retail_price": "24.00"})
    assert retried.status_code == 200 and len(world.stub.store_products) == 1


def test_printful_unreachable_answers_503_and_stores_nothing(world: ShopWorld):
    down = f"http://127.0.0.1:{free_port()}"
    shop = world.open_shop(printful_base_url=down, http_timeout_s=0.5)
    job_id = shop.completed_job(unique_prompt())
    for path, body in ((f"/api/generate/{job_id}/publish", {"variant_ids": [4012], "retail_price": "24.00"}),
                       (f"/api/generate/{job_id}/mockups", {"variant_ids": [4012]})):
        answer = shop.client.post(path, json=body)
        assert answer.status_code == 503, answer.text
        assert "could not be reached" in answer.json()["detail"] and TOKEN not in answer.text
    assert shop.services.publishing.store.published_products([job_id]) == {}
    assert shop.services.publishing.store.latest_mockups(job_id) is None


def test_variants_that_are_not_the_products_are_refused(world: ShopWorld):
    shop = world.open_shop()
    job_id = shop.completed_job(unique_prompt())
    for path in ("mockups", "publish"):
        answer = shop.client.post(f"/api/generate/{job_id}/{path}", json={"variant_ids": [4012, 9999], "retail_price": "24.00"})
        assert answer.status_code == 422 and "9999" in answer.json()["detail"]
    cheap = shop.client.post(f"/api/generate/{job_id}/publish", json={"variant_ids": [4018], "retail_price": "9.00"})
    assert cheap.status_code == 422 and "below Printful's price 14.50" in cheap.json()["detail"]
    assert shop.client.post(f"/api/generate/{job_id}/publish",
                            json={"variant_ids": [4012], "retail_price": "lots"}).status_code == 422
    assert world.stub.store_products == {} and world.stub.tasks == {}


def test_a_job_that_has_not_completed_is_refused_with_409(world: ShopWorld):
    shop = world.open_shop()
    pending = shop.services.generation.jobs.create(NewJob(user_id=shop.user, prompt="a fox", style="anime",
                                                          product="t-shirt", width=8, height=8))
    for method, path in (("POST", "mockups"), ("POST", "publish"), ("GET", "mockups")):
        answer = shop.client.request(method, f"/api/generate/{pending.id}/{path}",
                                     json={"variant_ids": [4012], "retail_price": "24.00"})
        assert answer.status_code == 409, (path, answer.text)


def test_a_print_file_that_fails_preflight_is_refused_with_409(world: ShopWorld, monkeypatch):
    shop = world.open_shop()
    job_id = shop.completed_job(unique_prompt())
    failing = SimpleNamespace(preflight=[SimpleNamespace(check="resolution", status="fail", detail="below 150 DPI")])
    assert not _print_file_passes(failing)  # type: ignore[arg-type]
    assert _print_file_passes(SimpleNamespace(preflight=[SimpleNamespace(check="icc", status="fixed", detail="")]))  # type: ignore[arg-type]
    monkeypatch.setattr(publishing_service, "_print_file_passes", lambda stored: False)
    monkeypatch.setattr(publishing_service, "_failed_checks", lambda stored: ["resolution: below 150 DPI"])
    answer = shop.client.post(f"/api/generate/{job_id}/publish", json={"variant_ids": [4012], "retail_price": "24.00"})
    assert answer.status_code == 409 and "fails preflight: resolution: below 150 DPI" in answer.json()["detail"]
    assert world.stub.store_products == {}


def test_local_storage_explains_that_printful_cannot_fetch_the_file(tmp_path, printful):
    _, url = printful
    settings = shop_settings(tmp_path, url, "http://unused", "unused")
    settings = settings.model_copy(update={"b2_s3_bucket": None})
    world = ShopWorld(settings, clock=lambda: 0.0, stub=printful[0])  # type: ignore[arg-type]
    try:
        shop = world.open_shop()
        job_id = shop.completed_job()
        for path in ("mockups", "publish"):
            answer = shop.client.post(f"/api/generate/{job_id}/{path}", json={"variant_ids": [4012], "retail_price": "24.00"})
            assert answer.status_code == 409, answer.text
            assert "STORAGE_PUBLIC_BASE_URL" in answer.json()["detail"]
    finally:
        world.close()


def test_without_a_token_publishing_answers_409_saying_which_setting(tmp_path):
    world = ShopWorld(shop_settings(tmp_path, "http://127.0.0.1:1", "http://unused", "unused").model_copy(
        update={"printful_api_token": None, "b2_s3_bucket": None}), clock=lambda: 0.0, stub=None)  # type: ignore[arg-type]
    try:
        shop = world.open_shop()
        job_id = shop.completed_job()
        answer = shop.client.post(f"/api/generate/{job_id}/publish", json={"variant_ids": [4012], "retail_price": "24.00"})
        assert answer.status_code == 409 and "PRINTFUL_API_TOKEN" in answer.json()["detail"]
    finally:
        world.close()
