"""A yes/no answer (e.g. "are X and Y independent?")."""

from __future__ import annotations

from . import register_check
from ._outputs import as_bool
from .base import AnswerCheck, CheckResult, Params, PlanContext, Probe, ProbeOutcome, ScoreContext


class BooleanAnswerParams(Params):
    key: str
    expected: bool


@register_check
class BooleanAnswer(AnswerCheck[BooleanAnswerParams]):
    name = "boolean_answer"
    Params = BooleanAnswerParams
    answer_kind = "boolean"

    def plan(self, params: BooleanAnswerParams, ctx: PlanContext) -> list[Probe]:
        return [Probe("value", "answer.boolean", {"key": params.key})]

    def score(self, params: BooleanAnswerParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        if as_bool(outcomes.get("value"), params.key) == params.expected:
            return CheckResult(1.0, f"{params.key}: correct")
        return CheckResult(0.0, f"{params.key}: not correct")
