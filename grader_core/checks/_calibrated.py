"""Credit relative to the calibrated reference: full at ``factor x reference``, none at a baseline."""

from __future__ import annotations

from .base import CheckResult, MetricValue, ScoreContext


def calibrated_result(
    ctx: ScoreContext,
    *,
    what: str,
    value: float,
    key: str,
    factor: float,
    baseline: float,
    unit: str,
    extra: list[MetricValue] | None = None,
) -> CheckResult:
    """Lower is better. Linear credit between ``factor * reference`` (full) and ``baseline`` (none)."""
    reference = ctx.reference(key)
    metrics = list(extra or [])
    if reference is None:
        metrics.insert(0, MetricValue(what, value))
        return CheckResult(0.0, f"{what} = {value:.4g} {unit}; this suite is not calibrated on this data yet "
                                "(staff: run `dgm-grader suite calibrate`)", value=value, metrics=metrics, calibration_key=key)
    full_at = factor * reference
    metrics.insert(0, MetricValue(what, value, threshold=full_at))
    if value <= full_at:
        fraction = 1.0
    elif baseline <= full_at or value >= baseline:
        fraction = 0.0
    else:
        fraction = (baseline - value) / (baseline - full_at)
    verdict = "full credit" if fraction >= 1 else "no credit" if fraction <= 0 else f"{fraction:.0%} credit"
    feedback = (f"{what} = {value:.4g} {unit}: {verdict} (full credit at <= {full_at:.4g}, "
                f"none at the independent-pixel baseline {baseline:.4g})")
    return CheckResult(fraction, feedback, value=value, metrics=metrics, calibration_key=key)
