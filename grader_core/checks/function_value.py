"""Call a function of the submission's entry module with fixed arguments and compare what it returns."""

from __future__ import annotations

from typing import Any

from . import register_check
from ._expected import close, trusted_number
from ._outputs import require_ok
from .base import Check, CheckResult, OutputProblem, Params, PlanContext, Probe, ProbeOutcome, ScoreContext


class FunctionValueParams(Params):
    function: str
    kwargs: dict[str, Any] = {}
    expected: float | int | bool | str
    rel_tol: float = 1e-6
    abs_tol: float = 1e-12


@register_check
class FunctionValue(Check[FunctionValueParams]):
    name = "function_value"
    Params = FunctionValueParams

    def validate_in_suite(self, params: FunctionValueParams, suite) -> list[str]:  # type: ignore[no-untyped-def]
        return [] if suite.submission.entry_module else ["function_value needs submission.entry_module"]

    def plan(self, params: FunctionValueParams, ctx: PlanContext) -> list[Probe]:
        return [Probe("result", "call", {"function": params.function, "kwargs": params.kwargs})]

    def score(self, params: FunctionValueParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        outcome = require_ok(outcomes.get("result"), f"{params.function}()")
        got = outcome.value
        if "result" in outcome.arrays and outcome.arrays["result"].shape == ():
            got = outcome.arrays["result"].item()
        if isinstance(params.expected, bool) or isinstance(params.expected, str) and not _numeric(params.expected):
            correct = got == params.expected
        elif isinstance(got, (int, float)) and not isinstance(got, bool):
            correct = close(float(got), trusted_number(params.expected), params.rel_tol, params.abs_tol)
        else:
            raise OutputProblem(f"{params.function}() returned {type(got).__name__}, expected a number")
        if correct:
            return CheckResult(1.0, f"{params.function}() returned the expected value")
        return CheckResult(0.0, f"{params.function}() returned a wrong value")


def _numeric(text: str) -> bool:
    try:
        trusted_number(text)
        return True
    except ValueError:
        return False
