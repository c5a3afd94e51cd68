"""A loopback stand-in for Printful's v1 API: the Mockup Generator, the catalog's products and
the store's products.

Answers in Printful's envelope ({"code", "result"} / {"code", "result", "error"}), records
every request, and can be scripted: the next replies can be a 429 lockout (with or without
Retry-After), a 5xx, or held past the client's timeout; the task endpoint walks through a
list of statuses.

Publishing mode (`complete_after_polls` set) behaves more like the real thing: it checks the
`Authorization: Bearer` token and `X-PF-Store-Id` when given them, each create-task makes its
own task that completes on its Nth poll, create-task answers 429 past `mockup_limit_per_minute`
calls in 60 s of `clock` (a lockout, Retry-After 60), and like Printful it fetches every print
file it is given and checks it is a PNG of the product's print size (`print_sizes`); a file
that is not fails the task (or the product) with the reason.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image

# GET /mockup-generator/printfiles/71, as Printful's docs show it (Bella+Canvas 3001)
TSHIRT_PRINTFILES: dict[str, Any] = {
    "product_id": 71,
    "available_placements": {"front": "Front print", "back": "Back print", "label_outside": "Outside label"},
    "printfiles": [{"printfile_id": 1, "width": 1800, "height": 2400, "dpi": 150, "fill_mode": "fit", "can_rotate": False}],
    "variant_printfiles": [{"variant_id": 4012, "placements": {"front": 1, "back": 1}}],
    "option_groups": ["Flat", "Men's"],
    "options": ["Front", "Back"],
}



def tshirt_variant(variant_id: int, color: str, color_code: str, size: str, price: str = "13.25") -> dict[str, Any]:
    return {"id": variant_id, "product_id": 71, "name": f"Bella + Canvas 3001 Unisex Short Sleeve Jersey T-Shirt ({color} / {size})",
            "size": size, "color": color, "color_code": color_code, "image": "https://files.cdn.printful.com/p/71.jpg",
            "price": price, "in_stock": True}


# GET /products/71 as Printful answers it (result.product, result.variants[]), a few variants
TSHIRT_PRODUCT: dict[str, Any] = {
    "product": {"id": 71, "type": "T-SHIRT", "title": "Unisex Staple T-Shirt | Bella + Canvas 3001",
                "brand": "Bella + Canvas", "model": "3001", "variant_count": 6, "currency": "USD"},
    "variants": [
        tshirt_variant(4011, "White", "#ffffff", "S"), tshirt_variant(4012, "White", "#ffffff", "M"),
        tshirt_variant(4013, "White", "#ffffff", "L"), tshirt_variant(4016, "Black", "#0c0c0c", "S"),
        tshirt_variant(4017, "Black", "#0c0c0c", "M"), tshirt_variant(4018, "Black", "#0c0c0c", "L", price="14.50"),
    ],
}
def _mockup_png() -> bytes:
    """A small t-shirt-coloured square: the "official mockup" served at /mockups/{task_key}.png."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


MOCKUP_PNG = _mockup_png()


@dataclass
class StubTask:
    task_key: str
    product_id: int
    variant_ids: list[int]
    polls: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Scripted:
    status: int = 200
    retry_after: str | None = None
    message: str | None = None
    hold_s: float = 0.0


def lockout(retry_after: str | None = None, message: str = "Too Many Requests") -> Scripted:
    return Scripted(status=429, retry_after=retry_after, message=message)


@dataclass
class PrintfulStub:
    printfiles: dict[int, dict[str, Any]] = field(default_factory=lambda: {71: TSHIRT_PRINTFILES})
    task_statuses: list[str] = field(default_factory=lambda: ["pending", "completed"])
    task_error: str = "Image could not be downloaded"
    script: list[Scripted] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    # --- publishing mode --------------------------------------------------------------------
    token: str | None = None  # when set, every call must carry `Authorization: Bearer <token>`
    store_id: str | None = None  # when set, every call must carry this X-PF-Store-Id
    products: dict[int, dict[str, Any]] = field(default_factory=lambda: {71: TSHIRT_PRODUCT})
    complete_after_polls: int | None = None  # each task completes on this poll (None: task_statuses)
    mockup_limit_per_minute: int | None = None
    clock: Callable[[], float] = time.time
    print_sizes: dict[int, tuple[int, int]] = field(default_factory=dict)  # product id -> print file px
    tasks: dict[str, StubTask] = field(default_factory=dict)
    task_calls: list[float] = field(default_factory=list)  # when each create-task was accepted
    rate_limited: int = 0  # create-task calls answered 429
    fetched: list[dict[str, Any]] = field(default_factory=list)  # print files fetched: url, ok, detail
    store_products: dict[str, dict[str, Any]] = field(default_factory=dict)  # by external_id
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def release(self) -> None:
        self.released.set()

    def max_calls_in_a_minute(self) -> int:
        calls = sorted(self.task_calls)
        return max((sum(1 for c in calls if start <= c < start + 60) for start in calls), default=0)

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.middleware("http")
        async def record_and_script(request: Request, call_next):  # type: ignore[no-untyped-def]
            body = await request.body()
            self.requests.append({
                "method": request.method, "path": request.url.path, "query": dict(request.query_params),
                "authorization": request.headers.get("authorization"),
                "store_id": request.headers.get("x-pf-store-id"), "body": body,
            })
            if request.url.path.startswith("/mockups/"):
                return await call_next(request)  # the mockup images are public, like Printful's CDN
            if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
                return self._error(Scripted(status=401, message="Malformed or missing access token"))
            if self.store_id is not None and request.headers.get("x-pf-store-id") != self.store_id:
                return self._error(Scripted(status=400, message="This API endpoint applies only to a specific store: "
                                                                "set the X-PF-Store-Id header"))
            if self.script:
                scripted = self.script.pop(0)
                if scripted.hold_s:
                    await self._hold(scripted.hold_s)
                if scripted.status != 200:
                    return self._error(scripted)
            return await call_next(request)

        @api.get("/mockup-generator/printfiles/{product_id}")
        def printfiles(product_id: int) -> JSONResponse:
            if product_id not in self.printfiles:
                return self._error(Scripted(status=404, message=f"Product {product_id} not found"))
            return JSONResponse({"code": 200, "result": self.printfiles[product_id]})

        @api.post("/mockup-generator/create-task/{product_id}")
        async def create_task(product_id: int, request: Request) -> JSONResponse:
            if self.complete_after_polls is None:
                return JSONResponse({"code": 200, "result": {"task_key": f"gt-{product_id}-1", "status": "pending"}})
            body = json.loads(await request.body())
            with self._lock:
                now = self.clock()
                recent = [t for t in self.task_calls if t > now - 60]
                if self.mockup_limit_per_minute is not None and len(recent) >= self.mockup_limit_per_minute:
                    self.rate_limited += 1
                    return self._error(lockout(retry_after="60", message="Too Many Requests. Please try again after 60 seconds."))
                self.task_calls.append(now)
                key = f"gt-{product_id}-{len(self.tasks) + 1}"
                task = StubTask(key, product_id, list(body.get("variant_ids", [])))
                self.tasks[key] = task
            files = body.get("files") or [{}]
            task.error = await asyncio.to_thread(self._check_print_file, product_id, files[0].get("image_url", ""))
            return JSONResponse({"code": 200, "result": {"task_key": key, "status": "pending"}})

        @api.get("/mockups/{name}")
        def mockup_image(name: str) -> Response:
            return Response(MOCKUP_PNG, media_type="image/png")

        @api.get("/products/{product_id}")
        def catalog_product(product_id: int) -> JSONResponse:
            if product_id not in self.products:
                return self._error(Scripted(status=404, message=f"Product {product_id} not found"))
            return JSONResponse({"code": 200, "result": self.products[product_id]})

        @api.post("/store/products")
        async def create_store_product(request: Request) -> JSONResponse:
            body = json.loads(await request.body())
            sync_product, sync_variants = body.get("sync_product") or {}, body.get("sync_variants") or []
            if not sync_product.get("name") or not sync_variants:
                return self._error(Scripted(status=400, message="sync_product.name and sync_variants are required"))
            known = {v["id"]: pid for pid, p in self.products.items() for v in p["variants"]}
            for variant in sync_variants:
                if variant.get("variant_id") not in known or not variant.get("retail_price") or not variant.get("files"):
                    return self._error(Scripted(status=400, message=f"Invalid sync variant {variant.get('variant_id')}"))
            for url in {f["url"] for v in sync_variants for f in v["files"]}:
                product_id = known[sync_variants[0]["variant_id"]]
                problem = await asyncio.to_thread(self._check_print_file, product_id, url)
                if problem:
                    return self._error(Scripted(status=400, message=problem))
            external_id = sync_product.get("external_id") or ""
            with self._lock:
                if external_id and external_id in self.store_products:
                    return self._error(Scripted(status=400, message=f"Product with external ID {external_id} already exists"))
                product = {"id": 900 + len(self.store_products) + 1, "external_id": external_id,
                           "name": sync_product["name"], "variants": len(sync_variants), "synced": len(sync_variants),
                           "thumbnail_url": sync_product.get("thumbnail"), "is_ignored": False}
                self.store_products[external_id or str(product["id"])] = {**product, "sync_variants": sync_variants}
            return JSONResponse({"code": 200, "result": product})

        @api.get("/store/products/{product_ref}")
        def store_product(product_ref: str) -> JSONResponse:
            stored = self.store_products.get(product_ref.removeprefix("@"))
            if stored is None:
                return self._error(Scripted(status=404, message="Not found"))
            sync_product = {k: v for k, v in stored.items() if k != "sync_variants"}
            return JSONResponse({"code": 200, "result": {"sync_product": sync_product,
                                                         "sync_variants": stored["sync_variants"]}})

        @api.get("/stores")
        def stores() -> JSONResponse:
            return JSONResponse({"code": 200, "result": [{"id": int(self.store_id or 12345), "name": "Stub store",
                                                          "type": "native"}]})

        @api.get("/mockup-generator/task")
        def task(task_key: str, request: Request) -> JSONResponse:
            if self.complete_after_polls is not None:
                return self._task_result(task_key, str(request.base_url).rstrip("/"))
            status = self.task_statuses.pop(0) if len(self.task_statuses) > 1 else self.task_statuses[0]
            result: dict[str, Any] = {"task_key": task_key, "status": status}
            if status == "completed":
                result["mockups"] = [{
                    "placement": "front", "variant_ids": [4012], "mockup_url": "https://files.example/front.png",
                    "extra": [{"title": "Back", "url": "https://files.example/back.png", "option": "Back"}],
                }]
            if status == "failed":
                result["error"] = self.task_error
            return JSONResponse({"code": 200, "result": result})

        return api

    def _task_result(self, task_key: str, base_url: str) -> JSONResponse:
        with self._lock:
            task = self.tasks.get(task_key)
            if task is None:
                return self._error(Scripted(status=404, message=f"Task {task_key} not found"))
            task.polls += 1
            done = task.polls >= (self.complete_after_polls or 1)
        result: dict[str, Any] = {"task_key": task_key, "status": "pending"}
        if done and task.error:
            result.update(status="failed", error=task.error)
        elif done:
            result.update(status="completed", mockups=[{
                "placement": "front", "variant_ids": task.variant_ids,
                "mockup_url": f"{base_url}/mockups/{task_key}.png", "extra": [],
            }])
        return JSONResponse({"code": 200, "result": result})

    def _check_print_file(self, product_id: int, url: str) -> str | None:
        """Fetch the print file as Printful would; the reason it is unusable, or None."""
        try:
            response = httpx.get(url, timeout=10)
        except httpx.HTTPError as exc:
            problem: str | None = f"Image could not be downloaded from {url}: {exc}"
        else:
            problem = self._png_problem(response, product_id)
        self.fetched.append({"url": url, "ok": problem is None, "detail": problem})
        return problem

    def _png_problem(self, response: httpx.Response, product_id: int) -> str | None:
        if response.status_code != 200:
            return f"Image could not be downloaded: HTTP {response.status_code}"
        if not response.content.startswith(b"\x89PNG\r\n\x1a\n"):
            return "The file is not a PNG"
        with Image.open(io.BytesIO(response.content)) as image:
            size = image.size
        wanted = self.print_sizes.get(product_id)
        if wanted is not None and size != wanted:
            return f"The print file is {size[0]}x{size[1]} px, the print area needs {wanted[0]}x{wanted[1]} px"
        return None

    @staticmethod
    def _error(scripted: Scripted) -> JSONResponse:
        headers = {"Retry-After": scripted.retry_after} if scripted.retry_after else {}
        message = scripted.message or "stub error"
        body = {"code": scripted.status, "result": message, "error": {"reason": "Stub", "message": message}}
        return JSONResponse(body, status_code=scripted.status, headers=headers)

    async def _hold(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.released.is_set() and loop.time() < deadline:
            await asyncio.sleep(0.01)
