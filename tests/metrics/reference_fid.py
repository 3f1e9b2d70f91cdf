"""An independent float64 FID, for checking torchmetrics: numpy statistics and a symmetric square root.

Tr((S1 S2)^(1/2)) equals Tr((S1^(1/2) S2 S1^(1/2))^(1/2)); the inner matrix is symmetric positive
semi-definite, so its eigenvalues are real and non-negative up to rounding, and ``eigvalsh`` finds
them stably (torchmetrics instead takes complex eigenvalues of the non-symmetric S1 S2).
"""

from __future__ import annotations

import numpy as np


def symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID between two feature sets [N, D] (unbiased covariances, as torchmetrics uses)."""
    a, b = np.asarray(features_a, dtype=np.float64), np.asarray(features_b, dtype=np.float64)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = symmetric_sqrt(cov_a)
    inner = root_a @ cov_b @ root_a
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0.0, None)).sum()
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)
