"""Parent structure of a pixel Bayesian network: a CPD may depend only on its parent window.

Single pixels q of random binary images are flipped; if the conditional at p moves, q is an input
of p's CPD. With window k, the parents of p = (i, j) are (i - a, j - b), 0 <= a, b <= k,
(a, b) != (0, 0): any other offset q - p (the pixel itself, a pixel to the right or below, one
beyond the window) is a violation, and the feedback names the offset.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from pydantic import Field

from . import register_check
from ._model import ModelParams, conditionals_args, probabilities
from ._perturbation import FlipPlan, dependencies, describe_offset, plan_flips
from .base import NOT_A_DISTRIBUTION, Check, CheckResult, PlanContext, Probe, ProbeOutcome, ScoreContext


class ParentStructureParams(ModelParams):
    window: int = Field(ge=1, le=27, description="k: parents are (i-a, j-b), 0 <= a, b <= k")
    bases: int = Field(3, ge=1)
    flips: int = Field(24, ge=1)
    tolerance: float = 1e-7


@register_check
class ParentStructure(Check[ParentStructureParams]):
    name = "parent_structure"
    Params = ParentStructureParams

    def plan(self, params: ParentStructureParams, ctx: PlanContext) -> list[Probe]:
        flips = plan_flips(ctx.rng, params.bases, params.flips)
        return [Probe("probs", "model.conditionals", conditionals_args(params.load, "float64"), {"x": flips.images})]

    def score(self, params: ParentStructureParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        outcome = outcomes["probs"]
        flips = FlipPlan.from_images(outcome.inputs["x"], params.bases)
        probs = probabilities(outcome, "conditionals()", len(flips.images))
        violations: Counter[tuple[int, int]] = Counter()
        for (row, col), moved in dependencies(probs, flips, params.tolerance):
            for p_row, p_col in np.argwhere(moved):
                offset = (row - int(p_row), col - int(p_col))
                if not (-params.window <= offset[0] <= 0 and -params.window <= offset[1] <= 0 and offset != (0, 0)):
                    violations[offset] += 1
        if not violations:
            return CheckResult(1.0, f"{params.load.describe()}: every conditional depends only on its parents")
        worst = ", ".join(describe_offset(*offset) for offset, _ in violations.most_common(3))
        # The homework's network generates in raster order: depending on the pixel itself or a later
        # pixel (below, or right on the same row) leaves no distribution whose likelihood is measured.
        later = any(d_row > 0 or (d_row == 0 and d_col >= 0) for d_row, d_col in violations)
        return CheckResult(
            0.0,
            f"{params.load.describe()}: conditionals depend on pixels that are not parents, at {worst}"
            f" (parents are the (i-a, j-b) with 0 <= a, b <= {params.window}, not the pixel itself)",
            findings=(NOT_A_DISTRIBUTION,) if later else (),
        )

