"""The process-wide settings and database the tasks use (from the environment, or set by the embedder)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from grader_api.db import Database
from grader_core.config import Settings, get_settings


@dataclass
class Runtime:
    settings: Settings
    db: Database


_lock = threading.Lock()
_current: Runtime | None = None


def configure(settings: Settings, db: Database | None = None) -> Runtime:
    global _current
    with _lock:
        if _current is not None and (db is None or _current.db is not db):
            _current.db.dispose()
        _current = Runtime(settings, db or Database(settings.database_url))
        return _current


def get_runtime() -> Runtime:
    with _lock:
        current = _current
    return current if current is not None else configure(get_settings())
