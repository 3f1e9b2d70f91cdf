"""The synthetic Persian digits: deterministic, shaped like Hoda's, and recognisable as their digits."""

from __future__ import annotations

import numpy as np
import pytest

from grader_core.datasets import DigitDataset, load_dataset
from grader_core.datasets import synthetic_persian as synthetic
from grader_core.metrics.digit_classifier import predict

RECOGNITION_SAMPLES = 500


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    return synthetic.generate(RECOGNITION_SAMPLES, seed=11)


def test_digits_are_the_extended_arabic_indic_ones() -> None:
    assert [ord(digit) for digit in synthetic.DIGITS] == list(range(0x06F0, 0x06FA))


def test_generation_is_deterministic_per_seed_and_sample() -> None:
    images, labels = synthetic.generate(30, seed=5)
    again, again_labels = synthetic.generate(30, seed=5)
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(labels, again_labels)
    prefix, _ = synthetic.generate(12, seed=5)
    np.testing.assert_array_equal(prefix, images[:12])
    other, _ = synthetic.generate(30, seed=6)
    assert (other != images).any(axis=(1, 2)).all(), "another seed draws other digits"


def test_output_is_formatted_like_hoda(sample: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = sample
    assert images.shape == (RECOGNITION_SAMPLES, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [RECOGNITION_SAMPLES // 10] * 10
    assert set(np.unique(images)) == {0, 1}
    rows, cols = images.any(axis=2), images.any(axis=1)
    height = 28 - rows.argmax(axis=1) - rows[:, ::-1].argmax(axis=1)
    width = 28 - cols.argmax(axis=1) - cols[:, ::-1].argmax(axis=1)
    assert np.maximum(height, width).max() <= 20 and np.mean(np.maximum(height, width) >= 19) > 0.99
    assert 0.05 < images.mean() < 0.25, "strokes are neither hairlines nor blobs"


def test_digits_vary_within_a_class(sample: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = sample
    for digit in range(10):
        members = images[labels == digit].reshape(-1, 28 * 28)
        assert len(np.unique(members, axis=0)) == len(members)


def test_a_classifier_trained_on_synthetic_digits_recognises_them(sample: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = sample
    assert np.mean(predict(images, "synthetic") == labels) >= 0.97


def test_a_classifier_trained_on_real_hoda_recognises_synthetic_digits(sample: tuple[np.ndarray, np.ndarray]) -> None:
    """The Hoda classifier never saw a synthetic digit, so this measures likeness to real handwriting."""
    images, labels = sample
    assert np.mean(predict(images, "hoda") == labels) >= 0.85


def test_registered_splits_are_deterministic_and_distinct() -> None:
    hidden = load_dataset("synthetic", "hidden")
    assert isinstance(hidden, DigitDataset) and len(hidden) == synthetic.SPLITS["hidden"][0]
    _, seed = synthetic.SPLITS["hidden"]
    first_images, _ = synthetic.generate(20, seed)
    np.testing.assert_array_equal(hidden.images[:20], first_images)
    test = load_dataset("synthetic", "test")
    assert hidden.checksum != test.checksum
