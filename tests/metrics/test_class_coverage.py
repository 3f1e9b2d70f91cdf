"""Class coverage: the entropy of the predicted-class histogram catches mode collapse."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader_core.datasets import load_dataset
from grader_core.metrics.class_coverage import class_coverage, coverage_of_labels, histogram_entropy


def test_entropy_of_known_histograms() -> None:
    assert histogram_entropy(np.full(10, 7)) == pytest.approx(math.log(10))
    assert histogram_entropy(np.array([0, 5, 0])) == 0.0
    assert histogram_entropy(np.array([1, 1, 0, 2])) == pytest.approx(1.5 * math.log(2))
    with pytest.raises(ValueError, match="positive total"):
        histogram_entropy(np.zeros(3))


def test_coverage_of_labels() -> None:
    coverage = coverage_of_labels(np.array([0, 0, 1, 1]))
    assert coverage.histogram.tolist() == [2, 2] + [0] * 8
    assert coverage.entropy == pytest.approx(math.log(2))
    assert coverage.normalized_entropy == pytest.approx(math.log(2) / math.log(10))
    assert coverage.missing_classes == list(range(2, 10))
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.9"):
        coverage_of_labels(np.array([10]))


def test_balanced_digits_cover_every_class_and_collapsed_ones_do_not() -> None:
    hidden = load_dataset("synthetic", "hidden")
    balanced = class_coverage(hidden.images[:1000], "synthetic")
    assert balanced.normalized_entropy > 0.99 and not balanced.missing_classes
    collapsed = class_coverage(hidden.images[hidden.labels == 3][:300], "synthetic")
    assert collapsed.histogram.argmax() == 3 and collapsed.normalized_entropy < 0.15
    half = class_coverage(hidden.images[hidden.labels < 5][:1000], "synthetic")
    assert half.normalized_entropy == pytest.approx(math.log(5) / math.log(10), abs=0.03)
