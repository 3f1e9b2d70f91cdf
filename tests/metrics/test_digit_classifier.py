"""The trusted digit classifiers: accurate on data they never trained on, small, and refused when
their weights do not match the recorded checksum."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from grader_core.datasets import DigitDataset, hoda_available, load_dataset
from grader_core.metrics import digit_classifier
from grader_core.metrics.digit_classifier import (
    NUM_FEATURES,
    WeightsChecksumError,
    as_image_tensor,
    feature_module,
    load_classifier,
    predict,
)

DATASETS = ("hoda", "synthetic", "mnist")


def test_hoda_classifier_reaches_98_percent_on_the_hidden_split(hoda_hidden: DigitDataset) -> None:
    assert np.mean(predict(hoda_hidden.images, "hoda") == hoda_hidden.labels) >= 0.98


def test_synthetic_classifier_on_its_hidden_split() -> None:
    hidden = load_dataset("synthetic", "hidden")
    assert np.mean(predict(hidden.images, "synthetic") == hidden.labels) >= 0.98


@pytest.mark.parametrize("dataset", DATASETS)
def test_weights_are_small_and_their_manifest_records_how_they_were_made(dataset: str) -> None:
    path = digit_classifier.weights_path(dataset)
    assert path.stat().st_size < 1_000_000
    manifest = json.loads(digit_classifier.manifest_path(dataset).read_text())
    assert manifest["dataset"] == dataset and manifest["accuracy"]["hidden"] >= 0.95
    if dataset == "hoda" and hoda_available():
        assert manifest["train_checksum"] == load_dataset(dataset, "train").checksum


@pytest.fixture
def weights_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for dataset in ("hoda",):
        for path in (digit_classifier.weights_path(dataset), digit_classifier.manifest_path(dataset)):
            shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(digit_classifier, "WEIGHTS_DIR", tmp_path)
    load_classifier.cache_clear()
    yield tmp_path
    load_classifier.cache_clear()


def test_tampered_weights_are_refused(weights_copy: Path) -> None:
    path = digit_classifier.weights_path("hoda")
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsChecksumError, match=r"digit_classifier_hoda\.json records"):
        load_classifier("hoda")


def test_missing_weights_are_a_clear_error(weights_copy: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no trained classifier for 'emnist'"):
        load_classifier("emnist")


def test_feature_module_meets_torchmetrics_custom_feature_contract() -> None:
    module = feature_module("synthetic")
    assert module.num_features == NUM_FEATURES
    images = torch.rand(3, 1, 28, 28)
    features = module(images)
    assert features.shape == (3, NUM_FEATURES) and features.dtype == torch.float64
    shared = load_classifier("synthetic")
    assert next(shared.parameters()).dtype == torch.float32, "the shared classifier is not converted"
    float32_features = feature_module("synthetic", torch.float32)(images)
    torch.testing.assert_close(features, float32_features.double(), rtol=1e-4, atol=1e-5)


def test_image_input_checks() -> None:
    assert as_image_tensor(np.ones((2, 28, 28), dtype=bool)).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match=r"expected images \[N, 28, 28\]"):
        as_image_tensor(np.zeros((2, 32, 32)))
    with pytest.raises(ValueError, match="NaN"):
        as_image_tensor(np.full((1, 28, 28), np.nan))
