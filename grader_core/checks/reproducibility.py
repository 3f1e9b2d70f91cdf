"""Sampling draws all its randomness from the generator it is given: the same seed gives the same
images, and different seeds give different ones."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from . import register_check
from ._model import ModelParams, binary_samples, sample_args
from .base import Check, CheckResult, PlanContext, Probe, ProbeOutcome, ScoreContext


class ReproducibilityParams(ModelParams):
    count: int = Field(16, ge=2)
    seed: int = 0


@register_check
class Reproducibility(Check[ReproducibilityParams]):
    name = "reproducibility"
    Params = ReproducibilityParams

    def plan(self, params: ReproducibilityParams, ctx: PlanContext) -> list[Probe]:
        return [
            Probe("first", "model.sample", sample_args(params.load, params.count, params.seed, copy=1)),
            Probe("again", "model.sample", sample_args(params.load, params.count, params.seed, copy=2)),
            Probe("other", "model.sample", sample_args(params.load, params.count, params.seed + 1, copy=1)),
        ]

    def score(self, params: ReproducibilityParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        first, again, other = (binary_samples(outcomes[name], f"sample() ({name})", params.count) for name in ("first", "again", "other"))
        model = params.load.describe()
        if not np.array_equal(first, again):
            return CheckResult(0.0, f"{model}: two calls with generators seeded alike gave different images; "
                                    "sample() must draw all randomness from the generator it is given")
        if np.array_equal(first, other):
            return CheckResult(0.0, f"{model}: different generator seeds gave identical images; sample() ignores its generator")
        return CheckResult(1.0, f"{model}: sampling is reproducible with a fixed generator")
