"""Ancestral sampling: samples must be drawn from the model's own conditionals.

For a correct ancestral sampler, E[x_p - pi_p(x)] = 0 at every pixel p, where pi = conditionals(x)
on the model's own samples x. Over n samples the statistic
    z_p = sum_s (x_sp - pi_sp) / sqrt(sum_s pi_sp (1 - pi_sp))
is approximately standard normal (a martingale-difference sum). Two tests: max_p |z_p| (one pixel
badly off), and the mean of z_p^2 over pixels, which is about 1 for a correct sampler and catches
a bias spread thinly over many pixels (an argmax sampler that draws near-blank images has
|z_p| ~ 3 everywhere). Pixels with almost no variance (sum pi(1 - pi) < 1) are skipped.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from . import register_check
from ._model import ModelParams, binary_samples, probabilities, sample_args
from .base import Check, CheckResult, MetricValue, PlanContext, Probe, ProbeOutcome, ScoreContext


class AncestralSamplingParams(ModelParams):
    count: int = Field(1000, ge=50)
    seed: int = 0
    max_abs_z: float = Field(5.5, gt=0, description="Bonferroni-safe bound over 784 pixels")
    max_mean_z2: float = Field(1.5, gt=1, description="correct samplers give about 1")


@register_check
class AncestralSampling(Check[AncestralSamplingParams]):
    name = "ancestral_sampling"
    Params = AncestralSamplingParams

    def plan(self, params: AncestralSamplingParams, ctx: PlanContext) -> list[Probe]:
        return [Probe("samples", "model.sample", sample_args(params.load, params.count, params.seed))]

    def score(self, params: AncestralSamplingParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        samples = binary_samples(outcomes["samples"], "sample()", params.count)
        probs = probabilities(outcomes["samples"], "conditionals() on the samples", params.count)
        variance = (probs * (1 - probs)).sum(axis=0)
        tested = variance >= 1.0
        z = np.zeros_like(variance)
        z[tested] = (samples - probs).sum(axis=0)[tested] / np.sqrt(variance[tested])
        worst = np.unravel_index(np.argmax(np.abs(z)), z.shape)
        largest = float(abs(z[worst]))
        mean_z2 = float((z[tested] ** 2).mean()) if tested.any() else 0.0
        metrics = [
            MetricValue("max |z|", largest, threshold=params.max_abs_z),
            MetricValue("mean z^2", mean_z2, threshold=params.max_mean_z2),
            MetricValue("pixels tested", float(tested.sum())),
        ]
        model = params.load.describe()
        if largest <= params.max_abs_z and mean_z2 <= params.max_mean_z2:
            return CheckResult(1.0, f"{model}: samples follow the model's conditionals (max |z| = {largest:.2f}, mean z^2 = {mean_z2:.2f})", metrics=metrics)
        return CheckResult(
            0.0,
            f"{model}: samples are not drawn from the model's own conditionals (max |z| = {largest:.1f} at pixel "
            f"{tuple(int(i) for i in worst)}, mean z^2 = {mean_z2:.1f}); sample() must draw every pixel at random "
            "given the pixels already drawn",
            metrics=metrics,
        )
