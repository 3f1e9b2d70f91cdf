"""Fixtures for the dataset tests. The real Hoda files are read through the user's cache, so only
the first run on a machine pays for decoding them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader_core.datasets import DigitDataset, hoda_available, load_dataset
from grader_core.datasets.hoda import (
    REMAINING_FILE,
    TEST_FILE,
    hoda_dir,
    load_known_file,
)


def require_hoda() -> Path:
    """The Hoda folder; skips the test (and only then) when the shared files are absent."""
    if not hoda_available():
        pytest.skip(f"Hoda files not found at {hoda_dir()} (set DGM_SHARED_DATA_DIR)")
    return hoda_dir()


@pytest.fixture(scope="session")
def hoda_test_file() -> tuple[np.ndarray, np.ndarray]:
    require_hoda()
    return load_known_file(TEST_FILE)


@pytest.fixture(scope="session")
def hoda_remaining_file() -> tuple[np.ndarray, np.ndarray]:
    require_hoda()
    return load_known_file(REMAINING_FILE)


@pytest.fixture(scope="session")
def hoda_hidden() -> DigitDataset:
    require_hoda()
    return load_dataset("hoda", "hidden")
