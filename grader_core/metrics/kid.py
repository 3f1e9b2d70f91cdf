r"""Kernel distance (KID) between samples and reference digits in the trusted classifier's feature space.

.. math::

    \mathrm{KID} = \widehat{\mathrm{MMD}}^2_u(f_s, f_r), \qquad
    k(x, y) = \left(\gamma\, x^\top y + c\right)^{d}

the unbiased squared maximum mean discrepancy between the 128-dimensional features
(:class:`~grader_core.metrics.digit_classifier.DigitFeatures`) of samples and reference digits,
with the cubic polynomial kernel (:math:`d = 3`, :math:`\gamma = 1/128`, :math:`c = 1`). It is
averaged over ``subsets`` random subsets of ``subset_size`` features from each side; the spread over
subsets is reported as well. This is torchmetrics' ``KernelInceptionDistance`` with the digit
classifier in place of Inception v3, in float64.

Unlike FID, the estimator is unbiased, so it can be compared across sample counts, and it can be
slightly negative when the two sets are alike. The subsets are drawn from a generator seeded with
``seed``, so a score is reproducible.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import torch
from torchmetrics.image.kid import KernelInceptionDistance

from grader_core.metrics.digit_classifier import as_image_tensor, feature_module


class KidScore(NamedTuple):
    mean: float
    std: float


class KidScorer:
    """KID of any number of sample sets against one reference set, whose features are taken once."""

    def __init__(
        self,
        reference: np.ndarray | torch.Tensor,
        dataset: str = "hoda",
        subsets: int = 100,
        subset_size: int = 1000,
        seed: int = 0,
    ) -> None:
        with warnings.catch_warnings():
            # It warns that it keeps every feature in memory; at 128 float64 values a digit, that is fine.
            warnings.filterwarnings("ignore", message=r"Metric `Kernel Inception Distance` will save")
            self._metric = KernelInceptionDistance(
                feature=feature_module(dataset, torch.float64),
                subsets=subsets,
                subset_size=subset_size,
                reset_real_features=False,
                normalize=True,
            ).set_dtype(torch.float64)
        self._subset_size = subset_size
        self._seed = seed
        self._metric.update(self._checked(reference), real=True)

    def _checked(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        tensor = as_image_tensor(images)
        if len(tensor) < self._subset_size:
            raise ValueError(f"KID with subset_size={self._subset_size} needs that many digits, got {len(tensor)}")
        return tensor

    def score(self, samples: np.ndarray | torch.Tensor) -> KidScore:
        """KID of ``samples``: digits [N, 28, 28] with values in [0, 1], N >= ``subset_size``."""
        self._metric.reset()  # forgets the previous samples, keeps the reference
        self._metric.update(self._checked(samples), real=False)
        # torchmetrics draws the subsets from torch's global generator: seed a private fork of it.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self._seed)
            mean, std = self._metric.compute()
        return KidScore(float(mean), float(std))


def kid(
    samples: np.ndarray | torch.Tensor,
    reference: np.ndarray | torch.Tensor,
    dataset: str = "hoda",
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> KidScore:
    """KID of ``samples`` against ``reference`` (digits [N, 28, 28], values in [0, 1], N >= subset_size)."""
    return KidScorer(reference, dataset, subsets, subset_size, seed).score(samples)
