"""A loopback stand-in for Printful's v1 Mockup Generator API.

Answers in Printful's envelope ({"code", "result"} / {"code", "result", "error"}), records
every request, and can be scripted: the next replies can be a 429 lockout (with or without
Retry-After), a 5xx, or held past the client's timeout; the task endpoint walks through a
list of statuses.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

# GET /mockup-generator/printfiles/71, as Printful's docs show it (Bella+Canvas 3001)
TSHIRT_PRINTFILES: dict[str, Any] = {
    "product_id": 71,
    "available_placements": {"front": "Front print", "back": "Back print", "label_outside": "Outside label"},
    "printfiles": [{"printfile_id": 1, "width": 1800, "height": 2400, "dpi": 150, "fill_mode": "fit", "can_rotate": False}],
    "variant_printfiles": [{"variant_id": 4012, "placements": {"front": 1, "back": 1}}],
    "option_groups": ["Flat", "Men's"],
    "options": ["Front", "Back"],
}


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

    def release(self) -> None:
        self.released.set()

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
        def create_task(product_id: int) -> JSONResponse:
            return JSONResponse({"code": 200, "result": {"task_key": f"gt-{product_id}-1", "status": "pending"}})

        @api.get("/mockup-generator/task")
        def task(task_key: str) -> JSONResponse:
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
