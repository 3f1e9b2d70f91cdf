"""Parameter sharing across pixels: equal parent windows give equal probabilities (unless the model
has positional features, in which case the probabilities must vary with position).

The inputs are random tilings of a small tile: a pixel and the pixel one period further (both far
enough from the top and left edges that their windows hold no padding) see identical parents.

Pixels outside the image count as 0: that is part of the model's definition, so a shared model
must give a pixel on the top or left border the probability it gives an interior pixel whose window
is the same with zeros where the border pixel's window leaves the image. The trusted side checks it
with a random image and the same image moved ``window`` pixels down and right onto zeros.
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
        probes = [Probe("probs", "model.conditionals", conditionals_args(params.load, "float64"), {"x": images})]
        if not params.positional:
            originals = (ctx.rng.random((params.patterns, SIZE, SIZE)) < 0.3).astype(np.uint8)
            moved = np.zeros_like(originals)
            moved[:, params.window:, params.window:] = originals[:, :SIZE - params.window, :SIZE - params.window]
            probes.append(Probe("border", "model.conditionals", conditionals_args(params.load, "float64"),
                                {"x": np.concatenate([originals, moved])}))
        return probes

    def score(self, params: SharedParametersParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        probs = probabilities(outcomes["probs"], "conditionals()", params.patterns)
        spread = _largest_spread(probs, params.window, params.period)
        model = params.load.describe()
        if params.positional:
            if spread >= params.min_variation:
                return CheckResult(1.0, f"{model}: probabilities vary with position (positional features are used)")
            return CheckResult(0.0, f"{model}: identical parent windows give identical probabilities everywhere: the positional features are ignored")
        if spread > params.tolerance:
            return CheckResult(0.0, f"{model}: two pixels with identical parent windows get probabilities {spread:.3g} apart: parameters are not shared across pixels")
        border = _border_spread(probabilities(outcomes["border"], "conditionals()", 2 * params.patterns), params.window)
        if border > params.tolerance:
            return CheckResult(0.0, f"{model}: a pixel on the top or left border gets a probability {border:.3g} away from an interior "
                                    "pixel whose parents are the same with zeros outside the image: pixels outside the image must count as 0")
        return CheckResult(1.0, f"{model}: identical parent windows give identical probabilities (parameters are shared), "
                                "and pixels outside the image count as 0")


def _border_spread(probs: np.ndarray, window: int) -> float:
    """The largest difference between a border pixel (within ``window`` of the top or left edge) of
    the originals and the same pixel of the moved copies, whose window holds zeros there instead."""
    half = probs.shape[0] // 2
    originals, moved = probs[:half, : SIZE - window, : SIZE - window], probs[half:, window:, window:]
    rows, cols = np.meshgrid(np.arange(SIZE - window), np.arange(SIZE - window), indexing="ij")
    near_border = (rows < window) | (cols < window)
    return float(np.abs(originals - moved)[:, near_border].max())


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
