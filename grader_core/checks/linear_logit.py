"""A "linear" CPD has a logit affine in its parents: for any two parents q1, q2 of pixel p,

    D = L(x) - L(x ^ q1) - L(x ^ q2) + L(x ^ q1 ^ q2) = 0,   L = log(pi_p / (1 - pi_p)),

the mixed second difference (``^`` flips a pixel). Any interaction between parents makes D != 0.
Every pair of parents is tested (105 pairs for 15 parents), each at ``repeats`` random pixels and
backgrounds, so an interaction between one particular pair cannot slip through by chance.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from pydantic import Field

from . import register_check
from ._model import ModelParams, conditionals_args, logit, probabilities
from .base import Check, CheckResult, OutputProblem, PlanContext, Probe, ProbeOutcome, ScoreContext

SIZE = 28


class LinearLogitParams(ModelParams):
    window: int = Field(ge=1, le=27)
    repeats: int = Field(2, ge=1, description="random pixels and backgrounds per pair of parents")
    tolerance: float = 1e-3


@register_check
class LinearLogit(Check[LinearLogitParams]):
    name = "linear_logit"
    Params = LinearLogitParams

    def plan(self, params: LinearLogitParams, ctx: PlanContext) -> list[Probe]:
        offsets = [(-a, -b) for a in range(params.window + 1) for b in range(params.window + 1) if (a, b) != (0, 0)]
        images, targets = [], []
        for (first, second) in [pair for pair in combinations(offsets, 2) for _ in range(params.repeats)]:
            base = (ctx.rng.random((SIZE, SIZE)) < 0.3).astype(np.uint8)
            row, col = ctx.rng.integers(params.window, SIZE, size=2)
            q1 = (row + first[0], col + first[1])
            q2 = (row + second[0], col + second[1])
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
        targets = outcome.inputs["targets"]
        quads = len(targets)
        probs = probabilities(outcome, "conditionals()", 4 * quads).reshape(quads, 4, SIZE, SIZE)
        at_target = probs[np.arange(quads), :, targets[:, 0], targets[:, 1]]  # [quads, 4]
        usable = ((at_target > 1e-4) & (at_target < 1 - 1e-4)).all(axis=1)
        if usable.sum() < quads // 4:
            raise OutputProblem("conditionals(): too many probabilities are saturated at 0 or 1 to test linearity")
        logits = logit(at_target[usable])
        mixed = np.abs(logits[:, 0] - logits[:, 1] - logits[:, 2] + logits[:, 3])
        worst = float(mixed.max())
        model = params.load.describe()
        if worst <= params.tolerance:
            return CheckResult(1.0, f"{model}: the logit is affine in the parents")
        return CheckResult(0.0, f"{model}: the logit is not affine in the parents (parents interact: mixed second difference up to {worst:.3g})")
