"""Where the datasets live and where their decoded arrays are cached.

The raw files (Hoda, MNIST) are not ours to redistribute, so they are never in the repository:
they sit in a shared data folder beside it, and what we derive from them goes to a per-user cache.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA_ENV = "DGM_GRADER_SHARED_DATA"
CACHE_DIR_ENV = "DGM_GRADER_CACHE_DIR"

_REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """The shared data folder: ``$DGM_GRADER_SHARED_DATA``, else ``<repo>/../shared/data``."""
    configured = os.environ.get(SHARED_DATA_ENV)
    return Path(configured) if configured else _REPO_ROOT.parent / "shared" / "data"


def cache_dir() -> Path:
    """The cache folder for decoded arrays: ``$DGM_GRADER_CACHE_DIR``, else ``~/.cache/dgm-grader``."""
    configured = os.environ.get(CACHE_DIR_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "dgm-grader"
