"""Trusted-side access to the evaluation digits and the calibration of thresholds against them."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..datasets import DigitDataset, hoda_available, load_dataset

PERSIAN = "persian_digits"


def resolve(name: str) -> str:
    """``persian_digits`` is the real Hoda set where its files exist, else the offline generator's."""
    if name == PERSIAN:
        return "hoda" if hoda_available() else "synthetic"
    return name


@lru_cache(maxsize=8)
def evaluation_subset(name: str, split: str, count: int) -> tuple[np.ndarray, str]:
    """A fixed subset (same for every submission: FID is biased in N) and its dataset's checksum."""
    dataset: DigitDataset = load_dataset(resolve(name), split)
    if count > len(dataset):
        raise ValueError(f"{name}/{split} has only {len(dataset)} digits, {count} requested")
    chosen = np.random.default_rng(0).permutation(len(dataset))[:count]
    images = dataset.images[np.sort(chosen)]
    images.flags.writeable = False
    return images, dataset.checksum


@lru_cache(maxsize=4)
def pixel_marginals(name: str) -> np.ndarray:
    """P(x_ij = 1) on the training split (smoothed): the independent-pixel baseline model."""
    from ..metrics.likelihood import fit_pixel_marginals

    return fit_pixel_marginals(load_dataset(resolve(name), "train").images)


def data_fingerprints(name: str, split: str, features: bool = False) -> dict[str, str]:
    """SHA-256 of what a check of these digits reads: the evaluated split, the training split its
    baseline comes from, and (``features``) the classifier weights its features come from."""
    resolved = resolve(name)
    fingerprints = {f"dataset {resolved}/{part}": load_dataset(resolved, part).checksum for part in (split, "train")}
    if features:
        from ..metrics.digit_classifier import classifier_checksum

        fingerprints[f"feature weights digit_classifier_{resolved}"] = classifier_checksum(resolved)
    return fingerprints
