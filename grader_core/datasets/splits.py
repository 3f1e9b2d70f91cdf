"""Deterministic, checksummed splits of the Hoda digits.

The two files are pooled with Test_20000 first (pool index ``i < 20000`` is record ``i`` of
Test_20000, the rest are Remaining_Samples). Test_20000 is sorted by class, so its indices are
shuffled with a fixed seed before anything is taken from it:

* ``hidden``: the first 500 of each class in that shuffled order (5,000 digits, balanced). The
  grader's evaluation split; never shown to students.
* ``test``: the next 500 of each class (5,000, balanced), for students to evaluate on.
* ``train``: all of Remaining_Samples, then the other 10,000 of Test_20000 (32,352 digits).

Each split's arrays have a SHA-256 recorded below; loading a split whose arrays differ (another
file, a changed decoder) is an error rather than a silently different benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader_core.datasets.cache import arrays_sha256
from grader_core.datasets.hoda import REMAINING_FILE, TEST_FILE, hoda_available, load_known_file
from grader_core.datasets.registry import register_dataset

SEED = 1403
PER_CLASS = {"hidden": 500, "test": 500}
SPLITS = ("train", "test", "hidden")
TEST_SIZE = 20_000
REMAINING_SIZE = 22_352
NUM_CLASSES = 10

# Computed with the pinned numpy and Pillow (Pillow's resampling shapes the normalized digits).
EXPECTED_SHA256 = {
    "train": "a5cf5e548ee305fb8431cc8841c4941c7ca5688fe895494d2404b347c50aba8c",
    "test": "94d786a8b52226568cf444723b23c99e8f4504556879e177a229329a288215be",
    "hidden": "c972e2abc8bb5b67882108791f28a8d1789fc1a7113993682bfbd5471b89cf0a",
}


class SplitChecksumError(RuntimeError):
    """A split's arrays are not the ones its recorded checksum was computed from."""


@dataclass(frozen=True)
class HodaPool:
    """Test_20000 followed by Remaining_Samples, as decoded."""

    images: np.ndarray
    labels: np.ndarray


def load_pool() -> HodaPool:
    test_images, test_labels = load_known_file(TEST_FILE)
    remaining_images, remaining_labels = load_known_file(REMAINING_FILE)
    return HodaPool(np.concatenate([test_images, remaining_images]), np.concatenate([test_labels, remaining_labels]))


def split_indices(test_labels: np.ndarray) -> dict[str, np.ndarray]:
    """Pool indices of every split, given Test_20000's labels (the only thing the split depends on)."""
    if test_labels.shape != (TEST_SIZE,):
        raise ValueError(f"expected {TEST_SIZE} Test_20000 labels, got {test_labels.shape}")
    order = np.random.default_rng(SEED).permutation(TEST_SIZE)
    rank_in_class = np.zeros(TEST_SIZE, dtype=np.int64)
    for label in range(NUM_CLASSES):
        members = order[test_labels[order] == label]
        rank_in_class[members] = np.arange(members.size)
    rank = rank_in_class[order]
    hidden_end = PER_CLASS["hidden"]
    test_end = hidden_end + PER_CLASS["test"]
    return {
        "hidden": order[rank < hidden_end],
        "test": order[(rank >= hidden_end) & (rank < test_end)],
        "train": np.concatenate([TEST_SIZE + np.arange(REMAINING_SIZE), order[rank >= test_end]]),
    }


def verify(split: str, images: np.ndarray, labels: np.ndarray) -> None:
    actual = arrays_sha256(images, labels)
    if actual != EXPECTED_SHA256[split]:
        raise SplitChecksumError(
            f"Hoda split {split!r} has SHA-256 {actual}, expected {EXPECTED_SHA256[split]}: "
            "the source files or the decoder changed"
        )


@register_dataset("hoda", SPLITS, available=hoda_available)
def load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    pool = load_pool()
    indices = split_indices(pool.labels[:TEST_SIZE])[split]
    images, labels = pool.images[indices], pool.labels[indices]
    verify(split, images, labels)
    return images, labels
