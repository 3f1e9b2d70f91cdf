"""An independent float64 FID, for checking torchmetrics: numpy statistics and an SVD.

With centred feature matrices A [n, d] and B [m, d], the covariances are S1 = A'A / (n - 1) and
S2 = B'B / (m - 1), and the eigenvalues of S1 S2 are the squared singular values of
A B' / sqrt((n - 1)(m - 1)), which equal those of Ra Rb' / sqrt((n - 1)(m - 1)) for the QR
factors A = Qa Ra, B = Qb Rb. So Tr((S1 S2)^(1/2)) is the sum of those singular values. Unlike a
square root of eigenvalues, an SVD resolves the zero eigenvalues of rank-deficient covariances (ReLU
units that never fire) to absolute accuracy, instead of turning rounding noise of 1e-13 into 3e-7.
torchmetrics takes the complex eigenvalues of S1 S2 instead.
"""

from __future__ import annotations

import numpy as np


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID between two feature sets [N, D] (unbiased covariances, as torchmetrics uses)."""
    a, b = np.asarray(features_a, dtype=np.float64), np.asarray(features_b, dtype=np.float64)
    centred_a, centred_b = a - a.mean(axis=0), b - b.mean(axis=0)
    scale_a, scale_b = len(a) - 1, len(b) - 1
    r_a, r_b = np.linalg.qr(centred_a, mode="r"), np.linalg.qr(centred_b, mode="r")
    trace_sqrt = np.linalg.svd(r_a @ r_b.T, compute_uv=False).sum() / np.sqrt(scale_a * scale_b)
    mean_term = np.sum((a.mean(axis=0) - b.mean(axis=0)) ** 2)
    trace_a, trace_b = np.sum(centred_a**2) / scale_a, np.sum(centred_b**2) / scale_b
    return float(mean_term + trace_a + trace_b - 2 * trace_sqrt)
