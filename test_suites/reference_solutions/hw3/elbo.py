"""Homework 3, Question 1 (reference): the ELBO of the two-latent Gaussian Bayes net, closed form."""

import math

import numpy as np


def elbo(Q, w, sigma, v) -> float:
    Q, w, v = np.asarray(Q, dtype=float), np.asarray(w, dtype=float), np.asarray(v, dtype=float)
    mu1, mu2 = Q[:, 0, 1], Q[:, 1, 1]
    mean = w[0] + w[1] * mu1 + w[2] * mu2
    expected_square = (v - mean) ** 2 + w[1] ** 2 * mu1 * (1 - mu1) + w[2] ** 2 * mu2 * (1 - mu2)
    log_prior = 2 * math.log(0.5)
    log_likelihood = -0.5 * math.log(2 * math.pi * sigma**2) - expected_square / (2 * sigma**2)
    entropy = -np.sum(np.where(Q > 0, Q * np.log(np.where(Q > 0, Q, 1.0)), 0.0), axis=(1, 2))
    return float(np.sum(log_prior + log_likelihood + entropy))
