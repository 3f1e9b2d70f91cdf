"""Bernoulli NLL, bits per dimension, clamping, and the independent-pixel baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader_core.datasets import load_dataset
from grader_core.metrics.likelihood import (
    EPSILON,
    PIXELS,
    bernoulli_nll,
    bits_per_dim,
    fit_pixel_marginals,
    independent_pixel_baseline,
    score_nll,
)


def test_a_fair_coin_per_pixel_costs_exactly_one_bit_per_dimension() -> None:
    images = np.random.default_rng(0).integers(0, 2, (5, 28, 28)).astype(np.uint8)
    score = score_nll(images, np.full((5, 28, 28), 0.5))
    assert score.nats_per_image == pytest.approx(PIXELS * math.log(2))
    assert score.bits_per_dim == pytest.approx(1.0)
    assert bits_per_dim(PIXELS * math.log(2)) == pytest.approx(1.0)


def test_nll_matches_the_definition_pixel_by_pixel() -> None:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 2, (3, 28, 28)).astype(np.uint8)
    probs = rng.uniform(0.01, 0.99, (3, 28, 28))
    expected = [
        -sum(math.log(p) if x else math.log(1 - p) for x, p in zip(image.ravel(), prob.ravel(), strict=True))
        for image, prob in zip(images, probs, strict=True)
    ]
    np.testing.assert_allclose(bernoulli_nll(images, probs), expected, rtol=1e-12)


def test_probabilities_are_clamped_away_from_zero_and_one() -> None:
    images = np.zeros((1, 28, 28), dtype=np.uint8)
    images[0, 0, 0] = 1
    certain = images.astype(np.float64)  # exactly right everywhere
    assert bernoulli_nll(images, certain)[0] == pytest.approx(-PIXELS * math.log1p(-EPSILON))
    wrong = certain.copy()
    wrong[0, 0, 0] = 0.0  # certain that a set pixel is off: finite, but -ln(epsilon) for that pixel
    assert bernoulli_nll(images, wrong)[0] == pytest.approx(-math.log(EPSILON) - (PIXELS - 1) * math.log1p(-EPSILON))
    assert bernoulli_nll(images, wrong, epsilon=1e-3)[0] == pytest.approx(
        -math.log(1e-3) - (PIXELS - 1) * math.log1p(-1e-3)
    )


@pytest.mark.parametrize(
    ("images", "probs", "message"),
    [
        (np.full((1, 28, 28), 2), np.full((1, 28, 28), 0.5), "binary"),
        (np.zeros((1, 28, 28)), np.full((1, 28, 28), 1.5), "probabilities in"),
        (np.zeros((1, 28, 28)), np.full((1, 28, 28), np.nan), "probabilities in"),
        (np.zeros((2, 28, 28)), np.full((3, 28, 28), 0.5), "shape"),
    ],
)
def test_invalid_input_is_refused(images: np.ndarray, probs: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bernoulli_nll(images, probs)


def test_pixel_marginals_are_laplace_smoothed() -> None:
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = 1
    images[0, 5, 5] = 1
    marginals = fit_pixel_marginals(images)
    assert marginals[0, 0] == pytest.approx(4 / 5)
    assert marginals[5, 5] == pytest.approx(2 / 5)
    assert marginals[9, 9] == pytest.approx(1 / 5)


def test_independent_pixel_baseline_on_held_out_digits() -> None:
    train, hidden = load_dataset("synthetic", "test"), load_dataset("synthetic", "hidden")
    baseline = independent_pixel_baseline(train.images, hidden.images)
    assert 0.2 < baseline.bits_per_dim < 0.6, "far better than a fair coin, far worse than a real model"
    assert baseline.bits_per_dim == pytest.approx(bits_per_dim(baseline.nats_per_image))
    # Knowing the class is worth something: per-class marginals beat the pooled ones.
    per_class = np.stack([fit_pixel_marginals(train.images[train.labels == k]) for k in range(10)])
    assert score_nll(hidden.images, per_class[hidden.labels]).bits_per_dim < baseline.bits_per_dim
    # And fitting on the evaluation set itself can only look better (it overfits).
    assert independent_pixel_baseline(hidden.images, hidden.images).bits_per_dim < baseline.bits_per_dim
