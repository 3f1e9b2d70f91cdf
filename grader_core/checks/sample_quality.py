"""Sample quality: FID (with KID and class coverage alongside) of a fixed number of samples against
the same fixed set of held-out digits for every submission (FID is biased in the sample count).

Features are the penultimate layer of the course's digit classifier, not Inception (wrong domain,
and not downloadable here). Full credit at <= ``full_at_factor`` x the calibrated reference FID,
none at the FID of independent-pixel samples, linear in between. Samples covering too few classes
(normalized entropy of the predicted-class histogram below ``coverage_factor`` x the reference's,
calibrated on the same data) get no credit: that is mode collapse, whatever the FID.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pydantic import Field

from . import register_check
from ._calibrated import calibrated_result
from ._digits import PERSIAN, data_fingerprints, evaluation_subset, pixel_marginals, resolve
from ._model import ModelParams, binary_samples, sample_args
from .base import Check, CheckResult, MetricValue, PlanContext, Probe, ProbeOutcome, ScoreContext


class SampleQualityParams(ModelParams):
    count: int = Field(1000, ge=100)
    seed: int = 0
    dataset: str = PERSIAN
    split: str = "hidden"
    full_at_factor: float = Field(1.25, ge=1.0)
    coverage_factor: float = Field(0.6, gt=0, le=1, description="mode collapse: class coverage below this share of the "
                                   "reference's (calibrated on the same data; a collapse onto 1-2 classes gives < 0.35)")


@register_check
class SampleQuality(Check[SampleQualityParams]):
    name = "sample_quality"
    Params = SampleQualityParams

    def fingerprints(self, params: SampleQualityParams) -> dict[str, str]:
        return data_fingerprints(params.dataset, params.split, features=True)

    def plan(self, params: SampleQualityParams, ctx: PlanContext) -> list[Probe]:
        return [Probe("samples", "model.sample", sample_args(params.load, params.count, params.seed))]

    def score(self, params: SampleQualityParams, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        from ..metrics.class_coverage import class_coverage  # heavy (torchmetrics): only when scoring
        from ..metrics.digit_classifier import classifier_checksum
        from ..metrics.fid import fid
        from ..metrics.kid import kid
        from ..sample_grid import sample_grid_png

        samples = binary_samples(outcomes["samples"], "sample()", params.count)
        reference, checksum = evaluation_subset(params.dataset, params.split, params.count)
        classifier = resolve(params.dataset)
        value = fid(samples, reference, dataset=classifier)
        kid_mean = kid(samples, reference, dataset=classifier, subset_size=min(1000, params.count // 2)).mean
        coverage = class_coverage(samples, dataset=classifier)
        key = f"{checksum}+features-{classifier_checksum(classifier)[:16]}"
        reference_coverage = ctx.reference(key, "coverage")
        floor = None if reference_coverage is None else params.coverage_factor * reference_coverage
        extra = [
            MetricValue("KID", kid_mean),
            MetricValue("class coverage (normalized entropy)", coverage.normalized_entropy, threshold=floor, lower_is_better=False),
        ]
        result = calibrated_result(
            ctx, what="FID", value=value, key=key, factor=params.full_at_factor,
            baseline=_baseline_fid(params.dataset, params.split, params.count), unit=f"on {params.count} samples", extra=extra,
        )
        result.images["samples.png"] = sample_grid_png(samples)
        result.also_measured["coverage"] = coverage.normalized_entropy
        if floor is not None and coverage.normalized_entropy < floor:
            covered = int((coverage.histogram > 0.01 * params.count).sum())
            result.fraction = 0.0
            result.feedback = (f"samples cover too few digit classes (normalized entropy {coverage.normalized_entropy:.2f} "
                               f"< {floor:.2f}, {params.coverage_factor:g} x the reference's {reference_coverage:.2f}; "
                               f"{covered} classes above 1%): mode collapse, no credit whatever the FID ({value:.4g} on {params.count} samples)")
        return result


@lru_cache(maxsize=4)
def _baseline_fid(dataset: str, split: str, count: int) -> float:
    """FID of independent-pixel samples (each pixel drawn from its training marginal, fixed seed)."""
    from ..metrics.fid import fid

    reference, _ = evaluation_subset(dataset, split, count)
    marginals = pixel_marginals(dataset)
    samples = (np.random.default_rng(0).random((count, 28, 28)) < marginals).astype(np.uint8)
    return fid(samples, reference, dataset=resolve(dataset))
