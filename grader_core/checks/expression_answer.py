"""An expression in some variables, compared by value at points the trusted side draws.

Comparing values instead of strings accepts every equivalent form. The points come from the run's
secret seed, so a submission cannot be tuned to them; only the points (never the expected values)
are sent into the sandbox, where the student's expression is parsed and evaluated.
"""

from __future__ import annotations

import numpy as np
from pydantic import model_validator

from . import register_check
from ._expected import close, evaluate_at, parse_trusted, trusted_number
from ._outputs import as_array
from .base import AnswerCheck, CheckResult, Params, PlanContext, Probe, ProbeOutcome, ScoreContext


class Domain(Params):
    low: float | str
    high: float | str
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Domain:
        if trusted_number(self.low) >= trusted_number(self.high):
            raise ValueError("low must be below high")
        return self

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        low, high = trusted_number(self.low), trusted_number(self.high)
        if self.integer:
            return rng.integers(int(np.ceil(low)), int(np.floor(high)) + 1, size=count).astype(np.float64)
        return rng.uniform(low, high, size=count)


class ExpressionAnswerParams(Params):
    key: str
    expected: str
    variables: dict[str, Domain]
    points: int = 24
    rel_tol: float = 1e-6
    abs_tol: float = 1e-10

    @model_validator(mode="after")
    def _expected_uses_only_variables(self) -> ExpressionAnswerParams:
        parse_trusted(self.expected, list(self.variables))  # another name is an error that names it
        return self


@register_check
class ExpressionAnswer(AnswerCheck[ExpressionAnswerParams]):
    name = "expression_answer"
    Params = ExpressionAnswerParams
    answer_kind = "expression"

    def validate_in_suite(self, params: ExpressionAnswerParams, suite) -> list[str]:  # type: ignore[no-untyped-def]
        problems = super().validate_in_suite(params, suite)
        declared = suite.submission.answer(params.key)
        if not problems and declared is not None and set(declared.variables) != set(params.variables):
            problems.append(f"variables {sorted(params.variables)} differ from the declared {sorted(declared.variables)}")
        return problems

    def plan(self, params: ExpressionAnswerParams, ctx: PlanContext) -> list[Probe]:
        points = np.column_stack([domain.draw(ctx.rng, params.points) for domain in params.variables.values()])
        args = {"key": params.key, "variables": list(params.variables)}
        return [Probe("values", "answer.expression", args, {"points": points})]

    def score(self, params: ExpressionAnswerParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        got = as_array(outcomes.get("values"), params.key, "values", (params.points,), finite=False)
        points = outcomes["values"].inputs["points"]
        variables = list(params.variables)
        expected = parse_trusted(params.expected, variables)
        wrong = sum(
            not close(float(value), evaluate_at(expected, variables, list(point)), params.rel_tol, params.abs_tol)
            for value, point in zip(got, points)
        )
        if wrong == 0:
            return CheckResult(1.0, f"{params.key}: correct")
        undefined = int(np.sum(~np.isfinite(got)))
        detail = f"; it could not be evaluated at {undefined} of them" if undefined else ""
        return CheckResult(0.0, f"{params.key}: not correct (it differs at {wrong} of {params.points} test points{detail})")
