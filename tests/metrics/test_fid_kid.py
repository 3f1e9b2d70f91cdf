"""FID and KID: torchmetrics agrees with an independent computation, real digits score near zero,
and both distances grow as the digits are corrupted (every FID here at SAMPLE_COUNT = 1000)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from grader_core.metrics.digit_classifier import as_image_tensor, feature_module
from grader_core.metrics.fid import fid
from grader_core.metrics.kid import KidScorer, kid
from tests.metrics.conftest import FLIP_RATES, CorruptionStudy, flip_pixels
from tests.metrics.reference_fid import frechet_distance

LEVELS = (0.0, *FLIP_RATES)


def features_of(images: np.ndarray, dataset: str) -> np.ndarray:
    return feature_module(dataset)(as_image_tensor(images)).numpy()


def test_torchmetrics_fid_matches_the_independent_float64_computation(study: CorruptionStudy) -> None:
    reference = features_of(study.reference, study.dataset)
    for rate in (0.0, 0.05):
        samples = features_of(flip_pixels(study.clean, rate) if rate else study.clean, study.dataset)
        assert study.fid[rate] == pytest.approx(frechet_distance(samples, reference), rel=1e-6, abs=0)


def test_fid_of_a_set_against_itself_is_zero(study: CorruptionStudy) -> None:
    digits = study.reference[:300]
    assert abs(fid(digits, digits, study.dataset)) < 1e-6


def test_real_digits_are_close_to_the_reference(study: CorruptionStudy) -> None:
    assert study.fid[0.0] < 5.0
    assert study.fid[0.0] < 0.5 * study.fid[0.01], "1% flipped pixels must already be clearly worse"


def test_fid_grows_monotonically_with_corruption(study: CorruptionStudy) -> None:
    scores = [study.fid[rate] for rate in LEVELS]
    assert all(lower < higher for lower, higher in pairwise(scores)), scores


def test_kid_ranks_the_corruptions_as_fid_does(study: CorruptionStudy) -> None:
    means = [study.kid[rate].mean for rate in LEVELS]
    assert np.argsort(means).tolist() == np.argsort([study.fid[rate] for rate in LEVELS]).tolist(), means
    clean = study.kid[0.0]
    assert abs(clean.mean) < 3 * clean.std + 0.05 * study.kid[0.01].mean, "clean digits: KID near zero"


def test_kid_is_reproducible_for_a_seed(study: CorruptionStudy) -> None:
    samples, reference = study.clean[:200], study.reference[:200]
    first, again, other = (kid(samples, reference, study.dataset, 5, 100, seed) for seed in (3, 3, 4))
    assert first == again and first != other


def test_kid_needs_a_full_subset() -> None:
    digits = np.zeros((10, 28, 28), dtype=np.uint8)
    with pytest.raises(ValueError, match="subset_size=20 needs that many digits, got 10"):
        KidScorer(digits, "synthetic", subsets=1, subset_size=20)


def test_images_outside_zero_one_are_refused() -> None:
    digits = np.full((4, 28, 28), 255, dtype=np.uint8)
    with pytest.raises(ValueError, match=r"values must lie in \[0, 1\]"):
        fid(digits, digits, "synthetic")
