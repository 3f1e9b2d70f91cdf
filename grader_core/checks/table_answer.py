"""A table of numbers (a marginal or conditional PMF), compared entry by entry.

The feedback names the wrong or missing entries by their row and column, never their values, so
a ``proportional`` partial-credit rule can give credit per entry.
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from . import register_check
from ._expected import close, trusted_number
from ._outputs import as_mapping
from .base import AnswerCheck, CheckResult, Params, PlanContext, Probe, ProbeOutcome, ScoreContext


def flatten(table: dict[Any, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in table.items():
        entry = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{entry}/"))
        else:
            flat[entry] = value
    return flat


class TableAnswerParams(Params):
    key: str
    expected: dict[Any, Any]
    rel_tol: float = 1e-6
    abs_tol: float = 1e-9

    @field_validator("expected")
    @classmethod
    def _numbers(cls, table: dict[Any, Any]) -> dict[Any, Any]:
        for value in flatten(table).values():
            trusted_number(value)
        return table


@register_check
class TableAnswer(AnswerCheck[TableAnswerParams]):
    name = "table_answer"
    Params = TableAnswerParams
    answer_kind = "table"

    def plan(self, params: TableAnswerParams, ctx: PlanContext) -> list[Probe]:
        return [Probe("table", "answer.table", {"key": params.key})]

    def score(self, params: TableAnswerParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        got = as_mapping(outcomes.get("table"), params.key)
        expected = {entry: trusted_number(value) for entry, value in flatten(params.expected).items()}
        wrong, missing = [], []
        for entry, want in expected.items():
            value = got.get(entry)
            if value is None:
                missing.append(entry)
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not close(value, want, params.rel_tol, params.abs_tol):
                wrong.append(entry)
        extra = sorted(set(got) - set(expected))
        correct = len(expected) - len(wrong) - len(missing)
        if not wrong and not missing and not extra:
            return CheckResult(1.0, f"{params.key}: correct")
        parts = []
        if wrong:
            parts.append(f"wrong entries: {', '.join(_label(e) for e in wrong)}")
        if missing:
            parts.append(f"missing entries: {', '.join(_label(e) for e in missing)}")
        if extra:
            parts.append(f"unexpected entries: {', '.join(_label(e) for e in extra[:10])}")
        fraction = correct / len(expected) if not extra else max(0.0, (correct - len(extra)) / len(expected))
        return CheckResult(fraction, f"{params.key}: not correct ({correct} of {len(expected)} entries right; {'; '.join(parts)})")


def _label(entry: str) -> str:
    return "[" + "][".join(entry.split("/")) + "]"
