"""A content-keyed ``.npz`` cache for decoded arrays, and the checksums that identify arrays.

Decoding the Hoda files or rendering thousands of synthetic digits takes seconds; loading the
result from an ``.npz`` takes milliseconds. Entries are keyed by what they were derived from (a
source file's SHA-256, a generator's seed), so a changed source can never be served stale data.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from grader_core.datasets.paths import cache_dir

logger = logging.getLogger(__name__)

Arrays = dict[str, np.ndarray]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def arrays_sha256(*arrays: np.ndarray) -> str:
    """SHA-256 over each array's dtype, shape and C-ordered bytes, so equal data gives equal sums."""
    digest = hashlib.sha256()
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{contiguous.dtype.str}{contiguous.shape}".encode())
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


def cached_arrays(key: str, build: Callable[[], Arrays]) -> Arrays:
    """The arrays stored under ``key``, building and storing them first when absent.

    A cache entry that cannot be read (say, left half-written by a killed process on a file system
    without atomic rename) is rebuilt rather than trusted.
    """
    path = cache_dir() / f"{key}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            logger.warning("rebuilding unreadable cache entry %s: %s", path, error)
    arrays = build()
    _store(path, arrays)
    return arrays


def _store(path: Path, arrays: Arrays) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            np.savez_compressed(stream, **arrays)  # type: ignore[arg-type]  # numpy's stub reserves allow_pickle
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info("cached %s", path)
