"""Reader for MNIST's gzipped IDX files, and the registered ``mnist`` dataset (the 10k test set).

IDX: a big-endian magic ``0x0000 <type> <ndim>`` (type 0x08 = uint8), ``ndim`` uint32 sizes, then
the data. Only the 10,000-image test set is in the shared folder; it is split with a fixed seed into
``train`` (6,000), ``test`` (2,000) and ``hidden`` (2,000). MNIST digits are already normalized the
way :mod:`grader_core.datasets.normalize` does it, so they are only binarized.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from grader_core.datasets.paths import shared_data_dir
from grader_core.datasets.registry import register_dataset

IMAGES_FILE = "t10k-images-idx3-ubyte.gz"
LABELS_FILE = "t10k-labels-idx1-ubyte.gz"
SEED = 1403
SPLIT_SIZES = {"train": 6_000, "test": 2_000, "hidden": 2_000}
_UBYTE = 0x08


class IdxFormatError(ValueError):
    """The bytes are not a well-formed uint8 IDX file."""


def mnist_dir() -> Path:
    return shared_data_dir() / "mnist"


def mnist_available() -> bool:
    return all((mnist_dir() / name).is_file() for name in (IMAGES_FILE, LABELS_FILE))


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode an (uncompressed) uint8 IDX file into an array of its declared shape."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IdxFormatError(f"{source}: not an IDX file (bad magic number)")
    if data[2] != _UBYTE:
        raise IdxFormatError(f"{source}: element type {data[2]:#04x} is not uint8")
    ndim = data[3]
    body = 4 + 4 * ndim
    if len(data) < body:
        raise IdxFormatError(f"{source}: truncated header")
    shape = tuple(int(size) for size in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    if len(data) - body != expected:
        raise IdxFormatError(f"{source}: {len(data) - body} data bytes, expected {expected} for shape {shape}")
    return np.frombuffer(data, dtype=np.uint8, offset=body).reshape(shape)


def read_idx_gz(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as stream:
        return parse_idx(stream.read(), str(path))


def binarize(images: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """uint8 0/1 images from grayscale ones: 1 where intensity > ``threshold``.

    Intensities are taken as in [0, 1] for float input and as in [0, 255] for uint8 input.
    """
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    return (images > threshold * scale).astype(np.uint8)


def load_mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The 10k MNIST test set, binarized: uint8 [10000, 28, 28] in {0, 1} and int64 labels."""
    if not mnist_available():
        raise FileNotFoundError(f"MNIST files not found in {mnist_dir()}")
    images = read_idx_gz(mnist_dir() / IMAGES_FILE)
    labels = read_idx_gz(mnist_dir() / LABELS_FILE).astype(np.int64)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise IdxFormatError(f"unexpected MNIST shapes: images {images.shape}, labels {labels.shape}")
    return binarize(images), labels


@register_dataset("mnist", tuple(SPLIT_SIZES), available=mnist_available)
def load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_mnist_test()
    order = np.random.default_rng(SEED).permutation(labels.size)
    ends = np.cumsum(list(SPLIT_SIZES.values()))
    indices = dict(zip(SPLIT_SIZES, np.split(order, ends[:-1]), strict=True))[split]
    return images[indices], labels[indices]
