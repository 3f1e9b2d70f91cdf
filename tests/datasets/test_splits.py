"""The Hoda splits: fixed, balanced where promised, disjoint, and checked against recorded checksums."""

from __future__ import annotations

import numpy as np
import pytest

from grader_core.datasets import DigitDataset, load_dataset, splits
from grader_core.datasets.cache import arrays_sha256


@pytest.fixture(scope="module")
def test_labels(hoda_test_file: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return hoda_test_file[1]


def test_split_indices_are_deterministic(test_labels: np.ndarray) -> None:
    first, second = splits.split_indices(test_labels), splits.split_indices(test_labels.copy())
    assert first.keys() == second.keys() == set(splits.SPLITS)
    for name in splits.SPLITS:
        np.testing.assert_array_equal(first[name], second[name])


def test_splits_partition_the_pool_and_hidden_shares_no_index(test_labels: np.ndarray) -> None:
    indices = splits.split_indices(test_labels)
    hidden, test, train = (set(indices[name].tolist()) for name in ("hidden", "test", "train"))
    assert not hidden & train and not hidden & test and not test & train
    assert len(hidden) == len(indices["hidden"]) == 5000
    assert len(test) == len(indices["test"]) == 5000
    assert len(train) == len(indices["train"]) == 32352
    assert hidden | test | train == set(range(splits.TEST_SIZE + splits.REMAINING_SIZE))
    assert max(hidden | test) < splits.TEST_SIZE, "hidden and test come from Test_20000 only"


def test_test_20000_is_shuffled_before_splitting(test_labels: np.ndarray) -> None:
    hidden = splits.split_indices(test_labels)["hidden"]
    # Test_20000 is sorted by class; unshuffled, the first 500 of class 0 would be records 0..499.
    assert not np.array_equal(np.sort(hidden[test_labels[hidden] == 0]), np.arange(500))
    assert len(set(test_labels[hidden[:50]].tolist())) > 5, "the hidden split's order is mixed too"


@pytest.mark.parametrize("name", splits.SPLITS)
def test_loaded_splits_match_their_recorded_checksums(name: str, hoda_test_file: object) -> None:
    dataset = load_dataset("hoda", name)
    assert isinstance(dataset, DigitDataset) and (dataset.name, dataset.split) == ("hoda", name)
    assert dataset.checksum == splits.EXPECTED_SHA256[name] == arrays_sha256(dataset.images, dataset.labels)
    if name != "train":
        assert np.bincount(dataset.labels).tolist() == [500] * 10


def test_a_changed_split_is_refused(hoda_hidden: DigitDataset) -> None:
    images = hoda_hidden.images.copy()
    images[0, 0, 0] ^= 1
    with pytest.raises(splits.SplitChecksumError, match="Hoda split 'hidden' has SHA-256"):
        splits.verify("hidden", images, hoda_hidden.labels)
    splits.verify("hidden", hoda_hidden.images, hoda_hidden.labels)
