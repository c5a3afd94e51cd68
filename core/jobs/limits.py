"""The app's input limits, each defined once: the service enforces them, the API's schemas
and the studio's controls are built from them.

The seed range is the app's own (a non-negative signed 32-bit integer), inside what the GPU
worker accepts.
"""

from __future__ import annotations

MAX_SEED = 2**31 - 1
MAX_STEPS = 100  # denoising steps a brief may ask for (1 to MAX_STEPS)
MAX_BATCH = 4  # images (jobs) from one generate request
# the idea as typed; TENKAIGEN_MAX_PROMPT_CHARS changes it, this is its default
DEFAULT_MAX_PROMPT_CHARS = 1000
MAX_NEGATIVE_PROMPT_CHARS = 2000  # longer negative prompts are cut to this
MAX_FINAL_PROMPT_CHARS = 2000  # an edited final prompt, what the image model receives
