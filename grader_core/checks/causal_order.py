"""Causality of an autoregressive model with respect to its declared generation order.

The model may declare ``order``, a permutation of the 784 raster pixel indices (raster order when
absent). Single pixels q of random binary images are flipped; the conditional at p may move only if
q comes strictly before p in that order. A model without its causal mask, with the mask shifted by
one (a pixel sees itself), or whose ``order`` does not match its conditionals, fails.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from . import register_check
from ._model import ModelParams, conditionals_args, probabilities
from ._outputs import require_ok
from ._perturbation import FlipPlan, dependencies, plan_flips
from .base import NOT_A_DISTRIBUTION, Check, CheckResult, OutputProblem, PlanContext, Probe, ProbeOutcome, ScoreContext

PIXELS = 784


class CausalOrderParams(ModelParams):
    bases: int = Field(3, ge=1)
    flips: int = Field(24, ge=1)
    tolerance: float = 1e-6


@register_check
class CausalOrder(Check[CausalOrderParams]):
    name = "causal_order"
    Params = CausalOrderParams

    def plan(self, params: CausalOrderParams, ctx: PlanContext) -> list[Probe]:
        flips = plan_flips(ctx.rng, params.bases, params.flips, margin=0)
        return [
            Probe("description", "model.describe", {"load": params.load.model_dump()}),
            Probe("probs", "model.conditionals", conditionals_args(params.load, "float64"), {"x": flips.images}),
        ]

    def score(self, params: CausalOrderParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        rank = _rank(require_ok(outcomes.get("description"), "the model").arrays.get("order"))
        outcome = outcomes["probs"]
        flips = FlipPlan.from_images(outcome.inputs["x"], params.bases)
        probs = probabilities(outcome, "conditionals()", len(flips.images))
        seen_itself = later = 0
        flipped = [row * 28 + col for row, col in flips.positions]
        edges: dict[int, set[int]] = {}  # flipped pixel -> the flipped pixels whose conditional it moves
        for (row, col), moved in dependencies(probs, flips, params.tolerance):
            q = row * 28 + col
            affected = np.flatnonzero(moved.reshape(-1))
            seen_itself += int(q in affected)
            later += int((rank[affected] < rank[q]).sum())
            edges[q] = {int(p) for p in affected if int(p) in flipped and int(p) != q}
        findings = (NOT_A_DISTRIBUTION,) if seen_itself or _has_cycle(edges) else ()
        if not seen_itself and not later:
            return CheckResult(1.0, "every conditional depends only on pixels earlier in the generation order")
        reasons = []
        if seen_itself:
            reasons.append(f"a pixel's conditional depends on the pixel itself ({seen_itself} of {params.flips} flipped pixels)")
        if later:
            reasons.append(f"conditionals depend on pixels that come later in `order` ({later} cases): "
                           "is the causal mask missing, or does `order` not match the conditionals?")
        return CheckResult(0.0, "not causal: " + "; ".join(reasons), findings=findings)


def _has_cycle(edges: dict[int, set[int]]) -> bool:
    """Whether the observed dependencies contain a cycle (then no order of generation is causal,
    whatever ``order`` says); Kahn's algorithm on the flipped pixels."""
    indegree = {node: 0 for node in edges}
    for targets in edges.values():
        for target in targets:
            indegree[target] = indegree.get(target, 0) + 1
    ready = [node for node, count in indegree.items() if count == 0]
    removed = 0
    while ready:
        node = ready.pop()
        removed += 1
        for target in edges.get(node, ()):
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return removed < len(indegree)


def _rank(order: np.ndarray | None) -> np.ndarray:
    """rank[p] = the position of raster pixel p in the generation order."""
    if order is None:
        return np.arange(PIXELS)
    order = np.asarray(order).reshape(-1)
    if order.dtype.kind not in "iu" or order.shape != (PIXELS,) or not np.array_equal(np.sort(order), np.arange(PIXELS)):
        raise OutputProblem("`order` must be a permutation of the 784 raster pixel indices (a LongTensor [784])")
    rank = np.empty(PIXELS, dtype=np.int64)
    rank[order] = np.arange(PIXELS)
    return rank
