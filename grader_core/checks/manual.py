"""A question a TA grades by hand with a rubric (a proof, say); its automatic score is pending."""

from __future__ import annotations

from pydantic import Field, model_validator

from . import register_check
from .base import Check, CheckResult, Params, PlanContext, Probe, ProbeOutcome, ScoreContext


class RubricItem(Params):
    id: str
    description: str
    points: float = Field(ge=0)


class ManualParams(Params):
    prompt: str
    rubric: list[RubricItem] = Field(min_length=1)
    answer_file: str | None = Field(None, description="the file of the submission the TA should read")

    @model_validator(mode="after")
    def _unique_items(self) -> ManualParams:
        if len({item.id for item in self.rubric}) != len(self.rubric):
            raise ValueError("rubric item ids must be unique")
        return self


@register_check
class Manual(Check[ManualParams]):
    name = "manual"
    Params = ManualParams
    manual = True

    def plan(self, params: ManualParams, ctx: PlanContext) -> list[Probe]:
        return []

    def score(self, params: ManualParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        return CheckResult(0.0, "graded by hand: pending")
