"""Parameter sharing across pixels: equal parent windows give equal probabilities (unless the model
has positional features, in which case the probabilities must vary with position).

The inputs are random tilings of a small tile: a pixel and the pixel one period further (both far
enough from the top and left edges that their windows hold no padding) see identical parents.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from . import register_check
from ._model import ModelParams, conditionals_args, probabilities
from .base import Check, CheckResult, PlanContext, Probe, ProbeOutcome, ScoreContext

SIZE = 28


class SharedParametersParams(ModelParams):
    window: int = Field(ge=1, le=27)
    positional: bool = Field(description="whether the configuration has positional features")
    patterns: int = Field(4, ge=1)
    period: int = Field(5, ge=2)
    tolerance: float = 1e-5
    min_variation: float = 1e-3


@register_check
class SharedParameters(Check[SharedParametersParams]):
    name = "shared_parameters"
    Params = SharedParametersParams

    def plan(self, params: SharedParametersParams, ctx: PlanContext) -> list[Probe]:
        repeats = -(-SIZE // params.period)
        tiles = (ctx.rng.random((params.patterns, params.period, params.period)) < 0.4).astype(np.uint8)
        images = np.tile(tiles, (1, repeats, repeats))[:, :SIZE, :SIZE]
        return [Probe("probs", "model.conditionals", conditionals_args(params.load, "float64"), {"x": images})]

    def score(self, params: SharedParametersParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        probs = probabilities(outcomes["probs"], "conditionals()", params.patterns)
        spread = _largest_spread(probs, params.window, params.period)
        model = params.load.describe()
        if params.positional:
            if spread >= params.min_variation:
                return CheckResult(1.0, f"{model}: probabilities vary with position (positional features are used)")
            return CheckResult(0.0, f"{model}: identical parent windows give identical probabilities everywhere: the positional features are ignored")
        if spread <= params.tolerance:
            return CheckResult(1.0, f"{model}: identical parent windows give identical probabilities (parameters are shared)")
        return CheckResult(0.0, f"{model}: two pixels with identical parent windows get probabilities {spread:.3g} apart: parameters are not shared across pixels")


def _largest_spread(probs: np.ndarray, window: int, period: int) -> float:
    """The largest difference of probability among pixels whose windows are identical."""
    inner = probs[:, window:, window:]
    rows, cols = np.meshgrid(np.arange(window, SIZE), np.arange(window, SIZE), indexing="ij")
    classes = (rows % period) * period + (cols % period)
    spread = 0.0
    for label in np.unique(classes):
        members = inner[:, classes == label]
        spread = max(spread, float((members.max(axis=1) - members.min(axis=1)).max()))
    return spread
