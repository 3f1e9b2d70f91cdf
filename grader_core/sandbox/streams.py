"""Bounded readers for the two streams that leave a sandbox."""

from __future__ import annotations

import threading
from typing import Callable


class CappedBuffer:
    """Collects bytes up to ``limit``; past it, keeps nothing more and calls ``on_overflow`` once.

    ``keep_tail`` keeps the last bytes too, so a log shows both how a run began and how it ended.
    """

    def __init__(self, limit: int, on_overflow: Callable[[], None], keep_head: int | None = None, keep_tail: int = 0):
        self.limit = limit
        self.keep_head = limit if keep_head is None else keep_head
        self.keep_tail = keep_tail
        self.on_overflow = on_overflow
        self.total = 0
        self.overflowed = False
        self._head = bytearray()
        self._tail = bytearray()
        self._lock = threading.Lock()

    def feed(self, chunk: bytes) -> None:
        with self._lock:
            self.total += len(chunk)
            room = self.keep_head - len(self._head)
            if room > 0:
                self._head += chunk[:room]
            if self.keep_tail and len(chunk) > max(room, 0):
                self._tail += chunk[max(room, 0):]
                del self._tail[: max(0, len(self._tail) - self.keep_tail)]
            overflow = self.total > self.limit and not self.overflowed
            if overflow:
                self.overflowed = True
        if overflow:
            self.on_overflow()

    def data(self) -> bytes:
        return bytes(self._head)

    def text(self) -> str:
        text = self._head.decode("utf-8", errors="replace")
        dropped = self.total - len(self._head) - len(self._tail)
        if dropped > 0:
            text += f"\n[... {dropped} bytes of output dropped ...]\n"
        if self._tail:
            text += self._tail.decode("utf-8", errors="replace")
        return text
