"""Doing something every few seconds until told to stop: the reconciler (in the API process or on its
own) and the sandbox sweeper (in each worker)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def run_every(name: str, interval_s: float, action: Callable[[], object], stop: threading.Event,
              immediately: bool = False) -> None:
    """``action()`` every ``interval_s`` seconds (the first pass at once if ``immediately``) until
    ``stop`` is set; a failed pass is logged and the next one runs anyway (a database or broker
    hiccup must not end the loop)."""
    wait = 0.0 if immediately else interval_s
    while not stop.wait(wait):
        wait = interval_s
        try:
            action()
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("%s: the pass failed; the next one is in %g s", name, interval_s)


class PeriodicThread(threading.Thread):
    def __init__(self, name: str, interval_s: float, action: Callable[[], object], immediately: bool = False):
        super().__init__(name=name, daemon=True)
        self.interval_s = interval_s
        self.action = action
        self.immediately = immediately
        self.stopped = threading.Event()

    def run(self) -> None:
        run_every(self.name, self.interval_s, self.action, self.stopped, self.immediately)

    def stop(self) -> None:
        self.stopped.set()
