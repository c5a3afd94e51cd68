"""DraftGenerator: the embedded default, an offline Pillow draft renderer (no GPU, no model)."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from core.errors import InvalidTransition
from core.generators.base import GenerationOutcome, GenerationRequest, ResultSink
from core.generators.draft_art import DRAFT_REVISION, render_draft
from core.imaging.colour import RGB, hex_rgb
from core.imaging.png_text import generation_text

log = logging.getLogger(__name__)


class DraftGenerator:
    """Renders a draft design in a worker thread and hands the PNG to the result sink,
    the same completion path a worker's webhook takes."""

    model_name = "draft-renderer"
    runs_in_process = True
    label = "offline draft renderer (no GPU configured)"

    def __init__(
        self,
        palettes: dict[str, list[str]],
        max_workers: int = 2,
        base_colors: dict[str, str] | None = None,
        png_metadata: bool = True,
    ) -> None:
        """`base_colors`: each product's colour (by product id), so an isolated subject is drawn
        visible on it; `png_metadata`: write the generation record into the PNG's text chunks."""
        self._palettes = palettes
        self._base_colors: dict[str, RGB] = {pid: hex_rgb(c) for pid, c in (base_colors or {}).items()}
        self._png_metadata = png_metadata
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="draft")

    def submit(self, request: GenerationRequest, sink: ResultSink) -> None:
        self._pool.submit(self._run, request, sink)

    def _run(self, request: GenerationRequest, sink: ResultSink) -> None:
        started = time.perf_counter()
        try:
            palette = self._palettes.get(request.brief.style, [])
            text = generation_text(
                request.prompt, request.negative_prompt, request.seed, request.steps, self.model_name, DRAFT_REVISION
            ) if self._png_metadata else None
            png = render_draft(
                request.brief, palette, request.width, request.height, request.seed,
                base_color=self._base_colors.get(request.brief.product), text=text,
            )
            outcome = GenerationOutcome(
                job_id=request.job_id,
                status="completed",
                png=png,
                seed=request.seed,
                timings={"render_s": round(time.perf_counter() - started, 4)},
            )
        except Exception as exc:  # a render bug must fail the job, not vanish in the thread
            log.exception("draft render failed job_id=%s", request.job_id)
            outcome = GenerationOutcome(job_id=request.job_id, status="failed", error=f"draft render failed: {exc}")
        try:
            sink.apply_outcome(outcome)
        except InvalidTransition as exc:  # canceled (or reaped) while it rendered: expected, no traceback
            log.info("draft outcome not applied job_id=%s: %s", request.job_id, exc)
        except Exception:
            log.exception("could not apply draft outcome job_id=%s", request.job_id)

    def cancel(self, job_id: str) -> None:
        """Nothing to stop: a draft takes a moment, and its outcome is refused once the job is canceled."""

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
