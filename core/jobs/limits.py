"""The app's input limits, each defined once: the service enforces them, the API's schemas
and the studio's controls are built from them.

The seed and step ranges are the worker's (core.worker_contract.messages): every stored job
is one the GPU worker accepts.
"""

from __future__ import annotations

from core.worker_contract.messages import MAX_SEED, MAX_STEPS, MIN_STEPS

MAX_BATCH = 4  # images (jobs) from one generate request
# the idea as typed; TENKAIGEN_MAX_PROMPT_CHARS changes it, this is its default
DEFAULT_MAX_PROMPT_CHARS = 1000
MAX_NEGATIVE_PROMPT_CHARS = 2000  # longer negative prompts are cut to this
MAX_FINAL_PROMPT_CHARS = 2000  # an edited final prompt, what the image model receives
MAX_CALLBACK_URL_CHARS = 2048  # a job's callback_url

__all__ = ["MAX_SEED", "MAX_STEPS", "MIN_STEPS", "MAX_BATCH", "DEFAULT_MAX_PROMPT_CHARS",
           "MAX_NEGATIVE_PROMPT_CHARS", "MAX_FINAL_PROMPT_CHARS", "MAX_CALLBACK_URL_CHARS"]
