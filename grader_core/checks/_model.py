"""Pieces shared by the checks that probe a student's model (Homeworks 2, 3 and 5)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from ._outputs import as_array
from .base import OutputProblem, Params, ProbeOutcome


class LoadSpec(Params):
    """How the runner builds the model: ``module.function(**kwargs, weights_dir=<submission>/weights)``;
    ``module`` defaults to the suite's entry module."""

    module: str | None = None
    function: str = "load_model"
    kwargs: dict[str, Any] = Field(default_factory=dict)

    def describe(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self.kwargs.items())
        return f"{self.function}({args})"


class ModelParams(Params):
    load: LoadSpec = Field(default_factory=LoadSpec)


def conditionals_args(load: LoadSpec, dtype: str = "float32") -> dict[str, Any]:
    return {"load": load.model_dump(), "dtype": dtype}


def sample_args(load: LoadSpec, n: int, seed: int, copy: int = 0) -> dict[str, Any]:
    """Sampling probes always return the conditionals on the samples too, so that the checks that
    sample with the same seed share one probe (the pipeline runs identical probes once)."""
    args: dict[str, Any] = {"load": load.model_dump(), "n": n, "seed": seed, "with_conditionals": True}
    if copy:
        args["copy"] = copy  # a deliberately separate call, e.g. to test reproducibility
    return args


def probabilities(outcome: ProbeOutcome | None, what: str, count: int) -> np.ndarray:
    probs = as_array(outcome, what, "probs", (count, 28, 28), kind="f")
    if probs.min() < 0 or probs.max() > 1:
        raise OutputProblem(f"{what}: conditionals must be probabilities in [0, 1]")
    return probs.astype(np.float64)


def binary_samples(outcome: ProbeOutcome | None, what: str, count: int) -> np.ndarray:
    samples = as_array(outcome, what, "samples", (count, 28, 28), kind="fiub")
    if not np.isin(samples, (0, 1)).all():
        raise OutputProblem(f"{what}: samples must contain only 0 and 1")
    return samples.astype(np.uint8)


def logit(probs: np.ndarray) -> np.ndarray:
    clipped = np.clip(probs, 1e-12, 1 - 1e-12)
    return np.log(clipped) - np.log1p(-clipped)
