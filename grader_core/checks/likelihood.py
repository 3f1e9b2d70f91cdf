"""Likelihood of held-out digits, computed on the trusted side from the model's conditionals.

The model never reports its own likelihood: it returns pi = P(x_p = 1 | parents) for the hidden
digits, and the grader computes NLL = -sum_p [x_p log pi_p + (1 - x_p) log(1 - pi_p)] per image
(nats), and bits/dim = NLL / (784 ln 2). Full credit at <= ``full_at_factor`` x the calibrated
reference NLL, none at the independent-pixel baseline, linear in between.
"""

from __future__ import annotations

from pydantic import Field

from . import register_check
from ._calibrated import calibrated_result
from ._digits import PERSIAN, data_fingerprints, evaluation_subset, pixel_marginals
from ._model import ModelParams, conditionals_args, probabilities
from .base import Check, CheckResult, MetricValue, PlanContext, Probe, ProbeOutcome, ScoreContext


class LikelihoodParams(ModelParams):
    dataset: str = PERSIAN
    split: str = "hidden"
    count: int = Field(2000, ge=10)
    full_at_factor: float = Field(1.02, ge=1.0)


@register_check
class Likelihood(Check[LikelihoodParams]):
    name = "likelihood"
    Params = LikelihoodParams

    def fingerprints(self, params: LikelihoodParams) -> dict[str, str]:
        return data_fingerprints(params.dataset, params.split)

    def plan(self, params: LikelihoodParams, ctx: PlanContext) -> list[Probe]:
        images, _ = evaluation_subset(params.dataset, params.split, params.count)
        return [Probe("probs", "model.conditionals", conditionals_args(params.load), {"x": images})]

    def score(self, params: LikelihoodParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        from ..metrics.likelihood import score_nll

        images, checksum = evaluation_subset(params.dataset, params.split, params.count)
        probs = probabilities(outcomes["probs"], "conditionals()", params.count)
        score = score_nll(images, probs)
        baseline = score_nll(images, pixel_marginals(params.dataset)).nats_per_image
        return calibrated_result(
            ctx,
            what="NLL",
            value=score.nats_per_image,
            key=checksum,
            factor=params.full_at_factor,
            baseline=baseline,
            unit=f"nats/image ({score.bits_per_dim:.4f} bits/dim) on {params.count} held-out digits",
            extra=[MetricValue("bits/dim", score.bits_per_dim), MetricValue("independent-pixel baseline NLL", baseline)],
        )
