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
from tests.conftest import unavailable


def require_hoda() -> Path:
    """The Hoda folder. The real files are not ours to ship: a machine without them skips these tests
    (the offline generator's digits stand in elsewhere); CI, which has them, fails instead."""
    if not hoda_available():
        unavailable(f"the Hoda files (looked in {hoda_dir()}; set DGM_SHARED_DATA_DIR)", "DGM_REQUIRE_SHARED_DATA")
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
