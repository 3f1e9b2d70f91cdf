"""Where the datasets live and where their decoded arrays are cached (``Settings.shared_data_dir``
and ``Settings.cache_dir``).

The raw files (Hoda, MNIST) are not ours to redistribute, so they are never in the repository:
they sit in a shared data folder beside it, and what we derive from them goes to a per-user cache.
"""

from __future__ import annotations

from pathlib import Path

from ..config import get_settings


def shared_data_dir() -> Path:
    """``$DGM_SHARED_DATA_DIR``, else ``<repo>/../shared/data``."""
    return get_settings().shared_data_dir


def cache_dir() -> Path:
    """``$DGM_CACHE_DIR``, else ``~/.cache/dgm-grader``."""
    return get_settings().cache_dir
