"""A pass run now and then every interval, in a daemon thread, until stopped: the recovery
pass and the mockup queue's worker both run this way in every app process (api.app's lifespan)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicLoop:
    def __init__(self, name: str, run_once: Callable[[], object], interval_s: float) -> None:
        """`interval_s` <= 0: the start-up pass only. A pass that raises is logged, and the next
        interval tries again (the database or a provider may be away for a while)."""
        self._name = name
        self._run_once = run_once
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.passes = 0

    def start(self) -> PeriodicLoop:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._run_once()
            except Exception:
                log.exception("%s pass failed", self._name)
            self.passes += 1
            if self._interval_s <= 0:
                return
            self._stop.wait(self._interval_s)
