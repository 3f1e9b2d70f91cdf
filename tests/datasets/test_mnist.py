"""The MNIST IDX reader and binarization."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from grader_core.datasets import load_dataset, mnist
from grader_core.datasets.mnist import IdxFormatError, binarize, parse_idx
from tests.conftest import unavailable


def idx_bytes(array: np.ndarray) -> bytes:
    return struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def test_parse_idx_reads_shape_and_data() -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(array)), array)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda data: b"\x01" + data[1:], "bad magic number"),
        (lambda data: data[:2] + b"\x0d" + data[3:], "element type 0x0d is not uint8"),
        (lambda data: data[:-1], "23 data bytes, expected 24"),
        (lambda data: data[:6], "truncated header"),
    ],
)
def test_parse_idx_rejects_malformed_files(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IdxFormatError, match=message):
        parse_idx(mutate(idx_bytes(np.zeros((2, 3, 4), dtype=np.uint8))))


def test_read_idx_gz(tmp_path: Path) -> None:
    array = np.arange(10, dtype=np.uint8)
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(mnist.read_idx_gz(path), array)


def test_binarize_thresholds_at_half_intensity() -> None:
    np.testing.assert_array_equal(binarize(np.array([0, 127, 128, 255], dtype=np.uint8)), [0, 0, 1, 1])
    np.testing.assert_array_equal(binarize(np.array([0.0, 0.5, 0.51, 1.0])), [0, 0, 1, 1])
    assert binarize(np.array([0.3]), threshold=0.25).tolist() == [1]


def test_real_mnist_test_set() -> None:
    if not mnist.mnist_available():
        unavailable(f"the MNIST files (looked in {mnist.mnist_dir()})", "DGM_REQUIRE_SHARED_DATA")
    images, labels = mnist.load_mnist_test()
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8 and set(np.unique(images)) == {0, 1}
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    splits = {name: load_dataset("mnist", name) for name in mnist.SPLIT_SIZES}
    assert {name: len(split) for name, split in splits.items()} == mnist.SPLIT_SIZES
    stacked = np.concatenate([split.images for split in splits.values()]).reshape(10_000, -1)
    assert len(np.unique(stacked, axis=0)) > 9_950, "splits are disjoint (up to duplicate digits)"
