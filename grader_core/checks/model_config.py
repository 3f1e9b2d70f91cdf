"""The model's declared configuration matches the assignment, and its size is within the budget.

``config`` must be a dict holding at least the required keys; every key listed in ``expected``
must have one of the allowed values; the parameter count (all ``parameters()``) must not exceed
``max_parameters``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from . import register_check
from ._model import ModelParams
from ._outputs import require_ok
from .base import Check, CheckResult, MetricValue, OutputProblem, PlanContext, Probe, ProbeOutcome, ScoreContext


class ModelConfigParams(ModelParams):
    required_keys: list[str] = Field(default_factory=list)
    expected: dict[str, list[Any]] = Field(default_factory=dict, description="key -> allowed values")
    max_parameters: int = Field(gt=0)


@register_check
class ModelConfig(Check[ModelConfigParams]):
    name = "model_config"
    Params = ModelConfigParams

    def plan(self, params: ModelConfigParams, ctx: PlanContext) -> list[Probe]:
        return [Probe("description", "model.describe", {"load": params.load.model_dump()})]

    def score(self, params: ModelConfigParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        description = require_ok(outcomes.get("description"), "the model").value
        config, count = description.get("config"), description.get("parameters")
        if not isinstance(config, dict):
            raise OutputProblem("the model has no `config` dict")
        if not isinstance(count, int):
            raise OutputProblem("the model has no parameters() to count")
        problems = [f"config lacks '{key}'" for key in params.required_keys if key not in config]
        problems += [
            f"{key} = {config.get(key)!r} (the assignment asks for {' or '.join(map(str, allowed))})"
            for key, allowed in params.expected.items()
            if key in config and config[key] not in allowed
        ]
        if count > params.max_parameters:
            problems.append(f"{count} parameters exceed the budget of {params.max_parameters}")
        metrics = [MetricValue("parameters", float(count), threshold=float(params.max_parameters))]
        if problems:
            return CheckResult(0.0, "model configuration: " + "; ".join(problems), metrics=metrics)
        return CheckResult(1.0, f"model configuration as asked, {count} parameters", metrics=metrics)
