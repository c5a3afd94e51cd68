"""BriefCache: identical prompts within a short window are answered without a second model call.

The cache lives in the process. That is enough for what it is for — saving the cost and the
latency of a repeated Gemini call while a designer re-submits or tweaks around the same idea.
The app stays stateless: every process (or replica) keeps its own small cache, a miss only
costs one more call, and nothing depends on a hit, so no shared store (Redis) is needed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from core.parsing.models import ParsedPrompt


class BriefCache:
    """A bounded TTL cache of briefs, safe to share between threads. ttl_s <= 0 disables it."""

    def __init__(self, ttl_s: float, max_entries: int = 512, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, ParsedPrompt]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> ParsedPrompt | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires_at, brief = entry
            if self._clock() >= expires_at:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return brief

    def put(self, key: Hashable, brief: ParsedPrompt) -> None:
        if self._ttl_s <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self._ttl_s, brief)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
