"""A "linear" CPD has a logit affine in its parents: for any two parents q1, q2 of pixel p,

    D = L(x) - L(x ^ q1) - L(x ^ q2) + L(x ^ q1 ^ q2) = 0,   L = log(pi_p / (1 - pi_p)),

the mixed second difference (``^`` flips a pixel). Any interaction between parents makes D != 0.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from . import register_check
from ._model import ModelParams, conditionals_args, logit, probabilities
from .base import Check, CheckResult, OutputProblem, PlanContext, Probe, ProbeOutcome, ScoreContext

SIZE = 28


class LinearLogitParams(ModelParams):
    window: int = Field(ge=1, le=27)
    triples: int = Field(48, ge=4)
    tolerance: float = 1e-3


@register_check
class LinearLogit(Check[LinearLogitParams]):
    name = "linear_logit"
    Params = LinearLogitParams

    def plan(self, params: LinearLogitParams, ctx: PlanContext) -> list[Probe]:
        offsets = [(-a, -b) for a in range(params.window + 1) for b in range(params.window + 1) if (a, b) != (0, 0)]
        images, targets = [], []
        for _ in range(params.triples):
            base = (ctx.rng.random((SIZE, SIZE)) < 0.3).astype(np.uint8)
            row, col = ctx.rng.integers(params.window, SIZE, size=2)
            first, second = ctx.rng.choice(len(offsets), size=2, replace=False)
            q1 = (row + offsets[first][0], col + offsets[first][1])
            q2 = (row + offsets[second][0], col + offsets[second][1])
            for flip1 in (0, 1):
                for flip2 in (0, 1):
                    image = base.copy()
                    image[q1] ^= flip1
                    image[q2] ^= flip2
                    images.append(image)
            targets.append((row, col))
        return [Probe("probs", "model.conditionals", conditionals_args(params.load, "float64"),
                      {"x": np.stack(images), "targets": np.array(targets)})]

    def score(self, params: LinearLogitParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        outcome = outcomes["probs"]
        probs = probabilities(outcome, "conditionals()", 4 * params.triples).reshape(params.triples, 4, SIZE, SIZE)
        targets = outcome.inputs["targets"]
        at_target = probs[np.arange(params.triples), :, targets[:, 0], targets[:, 1]]  # [triples, 4]
        usable = ((at_target > 1e-4) & (at_target < 1 - 1e-4)).all(axis=1)
        if usable.sum() < params.triples // 4:
            raise OutputProblem("conditionals(): too many probabilities are saturated at 0 or 1 to test linearity")
        logits = logit(at_target[usable])
        mixed = np.abs(logits[:, 0] - logits[:, 1] - logits[:, 2] + logits[:, 3])
        worst = float(mixed.max())
        model = params.load.describe()
        if worst <= params.tolerance:
            return CheckResult(1.0, f"{model}: the logit is affine in the parents")
        return CheckResult(0.0, f"{model}: the logit is not affine in the parents (parents interact: mixed second difference up to {worst:.3g})")
