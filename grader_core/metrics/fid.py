r"""Fréchet distance between samples and reference digits in the trusted classifier's feature space.

.. math::

    \mathrm{FID} = \lVert \mu_s - \mu_r \rVert_2^2
        + \operatorname{Tr}\left(\Sigma_s + \Sigma_r - 2 (\Sigma_s \Sigma_r)^{1/2}\right)

where :math:`\mu, \Sigma` are the mean and unbiased covariance of the 128-dimensional features
(:class:`~grader_core.metrics.digit_classifier.DigitFeatures`) of the samples (s) and of the
reference digits (r). This is torchmetrics' ``FrechetInceptionDistance`` with the digit classifier
in place of Inception v3; network, features and statistics are all float64.

FID is biased upward in the number of samples (the covariance estimates are noisy), so values are
comparable only at equal sample counts; the grader always scores the same count against the same
reference split.
"""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.image.fid import FrechetInceptionDistance

from grader_core.metrics.digit_classifier import as_image_tensor, feature_module

INPUT_SIZE = (1, 28, 28)


class FidScorer:
    """FID of any number of sample sets against one reference set, whose features are taken once."""

    def __init__(self, reference: np.ndarray | torch.Tensor, dataset: str = "hoda") -> None:
        self._metric = FrechetInceptionDistance(
            feature=feature_module(dataset, torch.float64),
            reset_real_features=False,
            normalize=True,
            input_img_size=INPUT_SIZE,
        ).set_dtype(torch.float64)
        self._metric.update(as_image_tensor(reference), real=True)

    def score(self, samples: np.ndarray | torch.Tensor) -> float:
        """FID of ``samples``: digits [N, 28, 28] with values in [0, 1], N >= 2."""
        self._metric.reset()  # forgets the previous samples, keeps the reference
        self._metric.update(as_image_tensor(samples), real=False)
        return float(self._metric.compute())


def fid(samples: np.ndarray | torch.Tensor, reference: np.ndarray | torch.Tensor, dataset: str = "hoda") -> float:
    """FID of ``samples`` against ``reference``: digits [N, 28, 28] with values in [0, 1], N >= 2 each."""
    return FidScorer(reference, dataset).score(samples)
