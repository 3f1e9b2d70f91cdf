"""A function that must stay below a trusted bound and reach it in known cases, e.g. an ELBO:
ELBO <= log p(v) always, with equality when q is the exact posterior.

The staff module provides ``bound_inputs(rng, count) -> list[dict]`` and
``evidence_bound(inputs) -> (bound, must_equal)``, both evaluated on the trusted side.
"""

from __future__ import annotations

from pydantic import Field

from . import register_check
from ._staff import StaffFunctionParams, as_arrays, call_inputs, returned_number
from .base import Check, CheckResult, PlanContext, Probe, ProbeOutcome, ScoreContext


class FunctionBoundParams(StaffFunctionParams):
    cases: int = Field(24, ge=3)
    tolerance: float = Field(1e-7, gt=0, description="absolute, in the function's units")


@register_check
class FunctionBound(Check[FunctionBoundParams]):
    name = "function_bound"
    Params = FunctionBoundParams

    def plan(self, params: FunctionBoundParams, ctx: PlanContext) -> list[Probe]:
        staff = params.staff(ctx.suite_dir)
        return [
            Probe(f"case{case}", "call", {"function": params.function, "module": params.module}, as_arrays(inputs))
            for case, inputs in enumerate(staff.bound_inputs(ctx.rng, params.cases))
        ]

    def score(self, params: FunctionBoundParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        staff = params.staff(ctx.suite_dir)
        above = missed = 0
        for case in range(params.cases):
            outcome = outcomes.get(f"case{case}")
            value = returned_number(outcome, params.function)
            bound, must_equal = staff.evidence_bound(call_inputs(outcome))  # type: ignore[arg-type]
            above += value > bound + params.tolerance
            missed += must_equal and abs(value - bound) > params.tolerance
        if above:
            return CheckResult(0.0, f"{params.function}() exceeds log p(v) in {above} of {params.cases} cases: it is not a lower bound")
        if missed:
            return CheckResult(0.0, f"{params.function}() does not reach log p(v) when q is the exact posterior ({missed} cases)")
        return CheckResult(1.0, f"{params.function}() is a lower bound on log p(v), tight at the exact posterior")
