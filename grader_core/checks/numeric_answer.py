"""A number (or a closed-form expression of one, such as ``1/(2*pi)``) compared within a tolerance."""

from __future__ import annotations

from pydantic import field_validator

from . import register_check
from ._expected import close, trusted_number
from ._outputs import as_number
from .base import AnswerCheck, CheckResult, Params, PlanContext, Probe, ProbeOutcome, ScoreContext


class NumericAnswerParams(Params):
    key: str
    expected: float | int | str
    rel_tol: float = 1e-6
    abs_tol: float = 1e-12

    @field_validator("expected")
    @classmethod
    def _evaluates(cls, value: float | int | str) -> float | int | str:
        trusted_number(value)
        return value


@register_check
class NumericAnswer(AnswerCheck[NumericAnswerParams]):
    name = "numeric_answer"
    Params = NumericAnswerParams
    answer_kind = "number"

    def plan(self, params: NumericAnswerParams, ctx: PlanContext) -> list[Probe]:
        return [Probe("value", "answer.number", {"key": params.key})]

    def score(self, params: NumericAnswerParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        got = as_number(outcomes.get("value"), params.key)
        if close(got, trusted_number(params.expected), params.rel_tol, params.abs_tol):
            return CheckResult(1.0, f"{params.key}: correct")
        return CheckResult(0.0, f"{params.key}: not correct")
