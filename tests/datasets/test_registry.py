"""The dataset registry and the DigitDataset contract."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from grader_core.datasets import (
    DigitDataset,
    dataset_names,
    dataset_source,
    hoda_available,
    load_dataset,
    registry,
)


def test_the_three_datasets_register_themselves() -> None:
    assert {"hoda", "synthetic", "mnist"} <= set(dataset_names())
    assert dataset_source("synthetic").available()


def test_unknown_names_and_splits_are_clear_errors() -> None:
    with pytest.raises(KeyError, match="unknown dataset 'emnist'; known: hoda, mnist, synthetic"):
        load_dataset("emnist", "train")
    with pytest.raises(KeyError, match="dataset 'synthetic' has no split 'validation'"):
        load_dataset("synthetic", "validation")


def test_a_new_module_registers_with_the_decorator(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.dataset_names()  # discover the real ones first
    monkeypatch.setattr(registry, "_SOURCES", dict(registry._SOURCES))

    @registry.register_dataset("blank", ("all",))
    def load_blank(split: str) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((3, 28, 28), dtype=np.uint8), np.arange(3, dtype=np.int64)

    dataset = registry.load_dataset.__wrapped__("blank", "all")
    assert (dataset.name, dataset.split, len(dataset)) == ("blank", "all", 3)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_dataset("blank", ("all",))(lambda split: load_blank(split))


def test_digit_datasets_validate_and_freeze_their_arrays() -> None:
    images, labels = np.zeros((2, 28, 28), dtype=np.uint8), np.zeros(2, dtype=np.int64)
    dataset = DigitDataset(images, labels, "x", "y", "sum")
    with pytest.raises(ValueError, match="read-only"):
        dataset.images[0, 0, 0] = 1
    with pytest.raises(ValueError, match="binary"):
        DigitDataset(np.full((2, 28, 28), 255, dtype=np.uint8), labels.copy(), "x", "y", "sum")
    with pytest.raises(ValueError, match="uint8"):
        DigitDataset(np.zeros((2, 28, 28), dtype=np.float32), labels.copy(), "x", "y", "sum")
    with pytest.raises(ValueError, match="int64"):
        DigitDataset(np.zeros((2, 28, 28), dtype=np.uint8), np.zeros(3, dtype=np.int64), "x", "y", "sum")


def test_availability_follows_the_shared_data_variable(tmp_path: Path, dgm_env: Callable[[str, str], None]) -> None:
    dgm_env("DGM_SHARED_DATA_DIR", str(tmp_path))
    assert not hoda_available()
    assert not dataset_source("hoda").available()
    with pytest.raises(FileNotFoundError, match=re.escape(f"Hoda file not found: {tmp_path}")):
        registry.load_dataset.__wrapped__("hoda", "hidden")
