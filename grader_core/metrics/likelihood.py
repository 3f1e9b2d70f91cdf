r"""Negative log-likelihood of binary digits under per-pixel Bernoulli conditionals.

For an image :math:`x \in \{0, 1\}^{784}` and the model's conditionals
:math:`\pi_j = p(x_j = 1 \mid x_{<j})` (or any per-pixel probabilities: an autoregressive model's
conditionals, a VAE decoder's means),

.. math::

    \mathrm{NLL}(x) = -\sum_{j=1}^{784} \left[x_j \ln \tilde\pi_j + (1 - x_j) \ln (1 - \tilde\pi_j)\right]
    \quad \text{nats}, \qquad
    \mathrm{bpd}(x) = \frac{\mathrm{NLL}(x)}{784 \ln 2}

with :math:`\tilde\pi = \operatorname{clamp}(\pi, \varepsilon, 1 - \varepsilon)`,
:math:`\varepsilon = 10^{-6}`. The clamp keeps one confidently wrong pixel from making the score
infinite (and one NaN from hiding the rest) while still charging it
:math:`-\ln \varepsilon \approx 13.8` nats, far more than any calibrated model pays.

The baseline every model must beat is the independent-pixel model: each pixel's marginal
:math:`p_j = (k_j + 1) / (n + 2)` fitted on ``n`` training images of which :math:`k_j` have pixel
``j`` set (Laplace smoothing, so no marginal is exactly 0 or 1), evaluated like any other model.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

EPSILON = 1e-6
PIXELS = 28 * 28


class LikelihoodScore(NamedTuple):
    """Mean NLL over a set of images."""

    nats_per_image: float
    bits_per_dim: float


def bits_per_dim(nats_per_image: float | np.ndarray, dims: int = PIXELS) -> float | np.ndarray:
    """Convert nats per image to bits per dimension: ``nats / (dims ln 2)``."""
    return nats_per_image / (dims * np.log(2.0))


def _binary(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"expected images [N, 28, 28], got {images.shape}")
    if not np.isin(images, (0, 1)).all():
        raise ValueError("images must be binary (0 or 1)")
    return images.astype(bool)


def bernoulli_nll(images: np.ndarray, probs: np.ndarray, epsilon: float = EPSILON) -> np.ndarray:
    """NLL in nats of each image [N] under per-pixel probabilities ``probs`` ([N, 28, 28] or [28, 28])."""
    pixels = _binary(images)
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape not in (pixels.shape, pixels.shape[1:]):
        raise ValueError(f"probs must have shape {pixels.shape} or {pixels.shape[1:]}, got {probs.shape}")
    if np.isnan(probs).any() or probs.min(initial=0.0) < 0 or probs.max(initial=0.0) > 1:
        raise ValueError("probs must be probabilities in [0, 1]")
    clamped = np.clip(probs, epsilon, 1 - epsilon)
    log_likelihood = np.where(pixels, np.log(clamped), np.log1p(-clamped))
    return -log_likelihood.reshape(len(pixels), -1).sum(axis=1)


def score_nll(images: np.ndarray, probs: np.ndarray, epsilon: float = EPSILON) -> LikelihoodScore:
    """Mean NLL over the images, in nats per image and in bits per dimension."""
    nats = float(bernoulli_nll(images, probs, epsilon).mean())
    return LikelihoodScore(nats, float(bits_per_dim(nats)))


def fit_pixel_marginals(train_images: np.ndarray) -> np.ndarray:
    """Laplace-smoothed per-pixel probabilities [28, 28] of a digit pixel: ``(k + 1) / (n + 2)``."""
    pixels = _binary(train_images)
    return (pixels.sum(axis=0) + 1.0) / (len(pixels) + 2.0)


def independent_pixel_baseline(train_images: np.ndarray, images: np.ndarray) -> LikelihoodScore:
    """NLL of ``images`` under the independent-pixel model fitted on ``train_images``."""
    return score_nll(images, fit_pixel_marginals(train_images))
