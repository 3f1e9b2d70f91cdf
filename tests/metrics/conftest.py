"""Fixtures for the metric tests: one study per dataset of how FID and KID respond to corruption.

Every FID here compares SAMPLE_COUNT digits with SAMPLE_COUNT reference digits (FID is biased in the
sample count, so only equal counts compare). The study runs on Hoda (skipped only when the shared
files are absent) and on the synthetic digits (always available), each with its own classifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from grader_core.datasets import load_dataset
from grader_core.metrics.fid import FidScorer
from grader_core.metrics.kid import KidScore, KidScorer
from tests.datasets.conftest import hoda_hidden, require_hoda

__all__ = ["hoda_hidden"]  # shared with the dataset tests

SAMPLE_COUNT = 1000
FLIP_RATES = (0.01, 0.05, 0.10, 0.20)
KID_SUBSETS, KID_SUBSET_SIZE = 50, 500
# Where the clean digits and the reference come from: different digits of the same distribution.
SOURCES = {"hoda": ("train", "hidden"), "synthetic": ("test", "hidden")}


def flip_pixels(images: np.ndarray, rate: float, seed: int = 0) -> np.ndarray:
    """Flip each pixel independently with probability ``rate``."""
    flips = np.random.default_rng(seed).random(images.shape) < rate
    return (images ^ flips).astype(np.uint8)


@dataclass(frozen=True)
class CorruptionStudy:
    dataset: str
    reference: np.ndarray
    clean: np.ndarray
    fid: dict[float, float]  # flip rate (0 = clean) -> FID against the reference
    kid: dict[float, KidScore]


@pytest.fixture(scope="session", params=sorted(SOURCES))
def study(request: pytest.FixtureRequest) -> CorruptionStudy:
    dataset = request.param
    if dataset == "hoda":
        require_hoda()
    sample_split, reference_split = SOURCES[dataset]
    clean = np.array(load_dataset(dataset, sample_split).images[:SAMPLE_COUNT])
    reference = np.array(load_dataset(dataset, reference_split).images[:SAMPLE_COUNT])
    sets = {0.0: clean} | {rate: flip_pixels(clean, rate) for rate in FLIP_RATES}
    fid_scorer = FidScorer(reference, dataset)
    kid_scorer = KidScorer(reference, dataset, subsets=KID_SUBSETS, subset_size=KID_SUBSET_SIZE)
    return CorruptionStudy(
        dataset,
        reference,
        clean,
        {rate: fid_scorer.score(images) for rate, images in sets.items()},
        {rate: kid_scorer.score(images) for rate, images in sets.items()},
    )
