r"""Class coverage of generated digits: which digits does a model produce, and how evenly?

The trusted classifier labels every sample; with :math:`p_k` the fraction labelled :math:`k`,

.. math::

    H = -\sum_{k=0}^{9} p_k \ln p_k \quad \text{nats} \quad (0 \ln 0 = 0), \qquad
    H_{\text{norm}} = \frac{H}{\ln 10} \in [0, 1]

:math:`H_{\text{norm}} = 1` when every digit is equally frequent (as in a balanced training set)
and 0 when the model produces a single digit, so a collapsed model is caught even when each of its
samples looks perfect (and FID, dominated by sample quality, is only mildly worse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from grader_core.metrics.digit_classifier import NUM_CLASSES, predict


@dataclass(frozen=True)
class ClassCoverage:
    histogram: np.ndarray  # int64 [10]: how many samples the classifier assigns to each digit
    entropy: float  # nats
    normalized_entropy: float  # entropy / ln 10

    @property
    def missing_classes(self) -> list[int]:
        return [int(k) for k in np.flatnonzero(self.histogram == 0)]


def histogram_entropy(counts: np.ndarray) -> float:
    """Entropy in nats of the distribution proportional to ``counts`` (non-negative, not all zero)."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError("counts must be a non-negative 1-D array with a positive total")
    p = counts[counts > 0] / counts.sum()
    return max(0.0, float(-(p * np.log(p)).sum()))  # one class gives -0.0, printed as "-0.00"


def coverage_of_labels(labels: np.ndarray, num_classes: int = NUM_CLASSES) -> ClassCoverage:
    histogram = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes)
    if histogram.size != num_classes:
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    entropy = histogram_entropy(histogram)
    return ClassCoverage(histogram, entropy, entropy / np.log(num_classes))


def class_coverage(samples: np.ndarray | torch.Tensor, dataset: str = "hoda") -> ClassCoverage:
    """Class coverage of ``samples`` (digits [N, 28, 28], values in [0, 1]) by ``dataset``'s classifier."""
    return coverage_of_labels(predict(samples, dataset))
