"""The dataset registry: every dataset module registers its split loader with a decorator.

Adding a dataset means adding a module to this package that decorates its loader with
:func:`register_dataset`; :func:`load_dataset` imports the package's modules on first use, so no
list of datasets needs editing anywhere.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from grader_core.datasets.cache import arrays_sha256
from grader_core.datasets.normalize import FRAME

SplitLoader = Callable[[str], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class DigitDataset:
    """Binary 28x28 digits: images uint8 [N, 28, 28] in {0, 1} (digit = 1), labels int64 [N].

    The arrays are made read-only, so a dataset shared between callers cannot be altered by one.
    ``checksum`` is :func:`~grader_core.datasets.cache.arrays_sha256` of (images, labels).
    """

    images: np.ndarray
    labels: np.ndarray
    name: str
    split: str
    checksum: str

    def __post_init__(self) -> None:
        images, labels = self.images, self.labels
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (FRAME, FRAME):
            raise ValueError(f"images must be uint8 [N, {FRAME}, {FRAME}], got {images.dtype} {images.shape}")
        if labels.dtype != np.int64 or labels.shape != images.shape[:1]:
            raise ValueError(f"labels must be int64 [{images.shape[0]}], got {labels.dtype} {labels.shape}")
        if images.size and images.max() > 1:
            raise ValueError("images must be binary (0 or 1)")
        images.flags.writeable = False
        labels.flags.writeable = False

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class DatasetSource:
    name: str
    splits: tuple[str, ...]
    load: SplitLoader
    available: Callable[[], bool]


_SOURCES: dict[str, DatasetSource] = {}


def register_dataset(
    name: str, splits: tuple[str, ...], available: Callable[[], bool] = lambda: True
) -> Callable[[SplitLoader], SplitLoader]:
    """Register ``load(split) -> (images, labels)`` as the dataset ``name`` with these splits."""

    def decorate(load: SplitLoader) -> SplitLoader:
        if name in _SOURCES and _SOURCES[name].load is not load:
            raise ValueError(f"dataset {name!r} is registered twice")
        _SOURCES[name] = DatasetSource(name, splits, load, available)
        return load

    return decorate


@lru_cache(maxsize=1)
def _discover() -> None:
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__package__}.{module.name}")


def dataset_source(name: str) -> DatasetSource:
    _discover()
    if name not in _SOURCES:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(_SOURCES))}")
    return _SOURCES[name]


def dataset_names() -> list[str]:
    _discover()
    return sorted(_SOURCES)


@lru_cache(maxsize=16)
def load_dataset(name: str, split: str) -> DigitDataset:
    """Load one split of a registered dataset (memoized: the arrays are read-only)."""
    source = dataset_source(name)
    if split not in source.splits:
        raise KeyError(f"dataset {name!r} has no split {split!r}; it has {', '.join(source.splits)}")
    images, labels = source.load(split)
    return DigitDataset(images, labels, name, split, arrays_sha256(images, labels))
