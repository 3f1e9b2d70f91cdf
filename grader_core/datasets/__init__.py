"""Binary 28x28 digit datasets (Hoda, synthetic Persian, MNIST) behind one registry.

>>> from grader_core.datasets import load_dataset
>>> train = load_dataset("hoda", "train")   # DigitDataset: images uint8 [N, 28, 28], labels int64 [N]
"""

from grader_core.datasets.hoda import hoda_available
from grader_core.datasets.registry import (
    DigitDataset,
    dataset_names,
    dataset_source,
    load_dataset,
    register_dataset,
)

__all__ = [
    "DigitDataset",
    "dataset_names",
    "dataset_source",
    "hoda_available",
    "load_dataset",
    "register_dataset",
]
