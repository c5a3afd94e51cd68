"""Designs for the print tests: a PNG to print, and completed jobs made from one (through the
service, or through the API with the draft renderer)."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from core.generators import GenerationOutcome
from core.jobs.service import GenerateCommand, GenerationService
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


def completed_job(service: GenerationService, product: str, style: str = "anime") -> str:
    """Ana's job for `product`, completed with design_png at the product's generation size."""
    job = service.create_job("ana", GenerateCommand(prompt="a red disc", style=style, product=product, seed=1))
    png = design_png(service.catalog.product(product).generation_size)
    service.apply_outcome(GenerationOutcome(job_id=job.id, status="completed", png=png, seed=1))
    return job.id


def completed_draft(client: TestClient, prompt: str = "a red fox", style: str = "sticker", product: str = "sticker",
                    seed: int = 3) -> str:
    """A job submitted through the API and completed by the draft renderer; its id."""
    accepted = client.post("/api/generate", json={"prompt": prompt, "style": style, "product": product, "seed": seed})
    job_id = accepted.json()["job_id"]
    wait_until(lambda: client.get(f"/api/generate/status/{job_id}").json()["status"] == "completed", what="draft job")
    return job_id
