"""Trusted staff code for Homework 3, Question 1 (never mounted into the sandbox).

The model: h1, h2 ~ Bernoulli(0.5) independently, v | h ~ N(w0 + w1 h1 + w2 h2, sigma^2); a fully
factorized q^i(h1, h2) = q^i_1(h1) q^i_2(h2) per data point, Q[i, j, k] = q^i_{j+1}(h_{j+1} = k).
With mu_j = Q[i, j, 1] and m = w0 + w1 mu_1 + w2 mu_2, since h^2 = h for binary h,

    E_q[(v - w0 - w1 h1 - w2 h2)^2] = (v - m)^2 + w1^2 mu_1 (1 - mu_1) + w2^2 mu_2 (1 - mu_2)
    ELBO_i = 2 log(1/2) - 1/2 log(2 pi sigma^2) - E_q[(v - ...)^2] / (2 sigma^2) + H(q^i_1) + H(q^i_2)
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable

import numpy as np

HOMEWORK_DATA = np.array([1.0, -1.0])


def _terms(Q: np.ndarray, w: np.ndarray, sigma: float, v: np.ndarray, *, variance: bool = True, var_power: int = 2) -> dict[str, float]:
    Q, w, v = np.asarray(Q, float), np.asarray(w, float), np.asarray(v, float)
    mu1, mu2 = Q[:, 0, 1], Q[:, 1, 1]
    mean = w[0] + w[1] * mu1 + w[2] * mu2
    square = (v - mean) ** 2
    if variance:
        square = square + w[1] ** 2 * mu1 * (1 - mu1) + w[2] ** 2 * mu2 * (1 - mu2)
    s2 = sigma**var_power
    entropy = -np.sum(np.where(Q > 0, Q * np.log(np.where(Q > 0, Q, 1.0)), 0.0))
    return {
        "prior": float(len(v) * 2 * math.log(0.5)),
        "normalizer": float(-0.5 * len(v) * math.log(2 * math.pi * s2)),
        "fit": float(-np.sum(square) / (2 * s2)),
        "entropy": float(entropy),
    }


def reference(Q: np.ndarray, w: np.ndarray, sigma: float, v: np.ndarray) -> float:
    return sum(_terms(Q, w, sigma, v).values())


def _without(term: str) -> Callable[..., float]:
    return lambda Q, w, sigma, v: sum(value for name, value in _terms(Q, w, sigma, v).items() if name != term)


def _entropy_sign_flipped(Q: np.ndarray, w: np.ndarray, sigma: float, v: np.ndarray) -> float:
    terms = _terms(Q, w, sigma, v)
    return sum(terms.values()) - 2 * terms["entropy"]


# The usual mistakes, named as the feedback names them (never showing the formula).
MISTAKES: dict[str, Callable[..., float]] = {
    "the entropy term is missing": _without("entropy"),
    "the entropy term has the wrong sign": _entropy_sign_flipped,
    "the log-prior term is missing": _without("prior"),
    "the Gaussian's -1/2 log(2 pi sigma^2) term is missing": _without("normalizer"),
    "E[h^2] was replaced by E[h]^2 (the variance of the mean is forgotten)": lambda Q, w, sigma, v: sum(_terms(Q, w, sigma, v, variance=False).values()),
    "sigma is used where sigma^2 belongs": lambda Q, w, sigma, v: sum(_terms(Q, w, sigma, v, var_power=1).values()),
}


def _posterior_rows(rng: np.random.Generator, count: int) -> np.ndarray:
    first = rng.uniform(0.05, 0.95, size=(count, 2))
    return np.stack([1 - first, first], axis=2)  # [count, 2, 2], rows sum to 1


def draw_inputs(rng: np.random.Generator, case: int) -> dict[str, Any]:
    """Half the cases use the homework's data (v = 1, -1), the rest other data of other sizes."""
    v = HOMEWORK_DATA if case % 2 == 0 else rng.normal(0, 2, size=int(rng.integers(1, 6)))
    return {"Q": _posterior_rows(rng, len(v)), "w": rng.normal(0, 1.5, size=3), "sigma": float(rng.uniform(0.3, 2.5)), "v": v}


def log_evidence(w: np.ndarray, sigma: float, v: np.ndarray) -> float:
    """log p(v) summed over data points, by summing over the four latent states."""
    total = 0.0
    for value in np.asarray(v, float):
        terms = [
            math.log(0.25) - 0.5 * math.log(2 * math.pi * sigma**2) - (value - w[0] - w[1] * h1 - w[2] * h2) ** 2 / (2 * sigma**2)
            for h1, h2 in itertools.product((0, 1), repeat=2)
        ]
        peak = max(terms)
        total += peak + math.log(sum(math.exp(term - peak) for term in terms))
    return total


def exact_factorized_posterior(w: np.ndarray, sigma: float, v: np.ndarray) -> np.ndarray:
    """With w1 * w2 = 0 the posterior factorizes; returns its Q (so the ELBO equals log p(v))."""
    assert w[1] * w[2] == 0
    rows = []
    for value in np.asarray(v, float):
        joint = np.array([[math.exp(-(value - w[0] - w[1] * h1 - w[2] * h2) ** 2 / (2 * sigma**2)) for h2 in (0, 1)] for h1 in (0, 1)])
        joint /= joint.sum()
        rows.append([joint.sum(axis=1), joint.sum(axis=0)])  # marginals of h1 and of h2
    return np.array(rows)


def bound_inputs(rng: np.random.Generator, count: int) -> list[dict[str, Any]]:
    """Random q's, and every third case the exact posterior of a model where it factorizes."""
    cases = []
    for case in range(count):
        inputs = draw_inputs(rng, case)
        if case % 3 == 2:
            w = inputs["w"].copy()
            w[1 + case % 2] = 0.0
            inputs["w"] = w
            inputs["Q"] = exact_factorized_posterior(w, inputs["sigma"], inputs["v"])
        cases.append(inputs)
    return cases


def evidence_bound(inputs: dict[str, Any]) -> tuple[float, bool]:
    """log p(v), and whether the ELBO must reach it (q is the exact, factorizing posterior)."""
    w, sigma, v = np.asarray(inputs["w"], float), float(inputs["sigma"]), inputs["v"]
    exact = w[1] * w[2] == 0 and np.allclose(inputs["Q"], exact_factorized_posterior(w, sigma, v), atol=1e-12)
    return log_evidence(w, sigma, v), bool(exact)
