"""A function of the submission compared with the staff's reference at many random inputs, and
when it is wrong, a diagnosis: which of the usual mistakes (staff-written variants) it matches.

The suite names a trusted staff module providing ``draw_inputs(rng, case) -> dict``,
``reference(**inputs) -> float`` and ``MISTAKES: dict[str, callable]``. Only the inputs enter the
sandbox; the feedback names the mistake, never the formula.
"""

from __future__ import annotations

from pydantic import Field

from . import register_check
from ._expected import close
from ._staff import StaffFunctionParams, as_arrays, call_inputs, returned_number
from .base import Check, CheckResult, PlanContext, Probe, ProbeOutcome, ScoreContext


class ReferenceFunctionParams(StaffFunctionParams):
    cases: int = Field(40, ge=1)
    rel_tol: float = 1e-6
    abs_tol: float = 1e-9


@register_check
class ReferenceFunction(Check[ReferenceFunctionParams]):
    name = "reference_function"
    Params = ReferenceFunctionParams

    def plan(self, params: ReferenceFunctionParams, ctx: PlanContext) -> list[Probe]:
        staff = params.staff(ctx.suite_dir)
        return [
            Probe(f"case{case}", "call", {"function": params.function, "module": params.module}, as_arrays(staff.draw_inputs(ctx.rng, case)))
            for case in range(params.cases)
        ]

    def score(self, params: ReferenceFunctionParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        staff = params.staff(ctx.suite_dir)
        cases = [outcomes.get(f"case{case}") for case in range(params.cases)]
        got = [returned_number(outcome, params.function) for outcome in cases]
        inputs = [call_inputs(outcome) for outcome in cases]  # type: ignore[arg-type]

        def matches(function) -> list[bool]:  # type: ignore[no-untyped-def]
            return [close(value, function(**kwargs), params.rel_tol, params.abs_tol) for value, kwargs in zip(got, inputs)]

        right = matches(staff.reference)
        if all(right):
            return CheckResult(1.0, f"{params.function}() is correct at all {params.cases} test points")
        for mistake, variant in staff.MISTAKES.items():
            if all(matches(variant)):
                return CheckResult(0.0, f"{params.function}() is not correct: {mistake}")
        return CheckResult(0.0, f"{params.function}() is not correct at {right.count(False)} of {params.cases} test points")

