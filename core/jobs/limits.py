"""The app's input limits, each defined once: the service enforces them, the API's schemas
and the studio's controls are built from them.

The seed and step ranges are the worker's (core.worker_contract.messages): every stored job
is one the GPU worker accepts. Text limits count characters after normalisation
(core.jobs.text); text over a limit is refused with a message naming the field.
"""

from __future__ import annotations

from core.worker_contract.messages import MAX_SEED, MAX_STEPS, MIN_STEPS

MAX_BATCH = 4  # images (jobs) from one generate request
# the idea as typed; TENKAIGEN_MAX_PROMPT_CHARS changes it, this is its default
DEFAULT_MAX_PROMPT_CHARS = 1000
MAX_NEGATIVE_PROMPT_CHARS = 2000  # the negative prompt, typed or in an edited brief
MAX_FINAL_PROMPT_CHARS = 2000  # an edited final prompt, what the image model receives
MAX_CALLBACK_URL_CHARS = 2048  # a job's callback_url

# The brief's other fields (an edited brief is stored with the job). The local parser may
# take the whole idea as the subject, so the service allows the larger of this and the
# idea's limit; it finds at most 35 colour words.
MAX_SUBJECT_CHARS = 1000
MAX_COLORS = 40
MAX_COLOR_CHARS = 40  # one colour word or hex code
MAX_MOOD_CHARS = 200
MAX_COMPOSITION_CHARS = 200

# A page of history (HTTP ?limit=&offset=, the studio's History tab)
MAX_HISTORY_LIMIT = 100
MAX_HISTORY_OFFSET = 1_000_000  # far past anyone's history, far inside a 64-bit OFFSET

__all__ = ["MAX_SEED", "MAX_STEPS", "MIN_STEPS", "MAX_BATCH", "DEFAULT_MAX_PROMPT_CHARS",
           "MAX_NEGATIVE_PROMPT_CHARS", "MAX_FINAL_PROMPT_CHARS", "MAX_SUBJECT_CHARS", "MAX_COLORS",
           "MAX_COLOR_CHARS", "MAX_MOOD_CHARS", "MAX_COMPOSITION_CHARS", "MAX_HISTORY_LIMIT",
           "MAX_HISTORY_OFFSET", "MAX_CALLBACK_URL_CHARS"]

# A vector (SVG) export: the colours the design is reduced to before it is traced
MIN_VECTOR_COLORS = 2
MAX_VECTOR_COLORS = 16
