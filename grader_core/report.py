"""A readable plain-text report of a grading run, for the terminal and for logs."""

from __future__ import annotations

from .results import GradingResult
from .suite import LoadedSuite

_MARKS = {"passed": "PASS", "partial": "PART", "failed": "FAIL", "error": "ERR ", "pending": "HAND"}


def render_report(result: GradingResult, loaded: LoadedSuite, show_hidden: bool = True) -> str:
    suite = loaded.suite
    lines = [
        f"{suite.title} ({suite.id} v{suite.version})",
        f"Score: {result.score:g} / {result.automatic_max_score:g} automatic points"
        + (f" (+{result.pending_manual_points:g} graded by hand)" if result.pending_manual_points else ""),
        "",
    ]
    width = max(len(test.id) for test in result.tests)
    for test in result.tests:
        if not show_hidden and test.visibility != "visible":
            continue
        points = f"{test.score:g}/{test.max_score:g}"
        lines.append(f"  [{_MARKS[test.status]}] {test.id:<{width}}  {points:>9}  {test.feedback}")
        for metric in test.metrics:
            threshold = f" (threshold {metric.threshold:g})" if metric.threshold is not None else ""
            lines.append(f"  {'':6} {'':<{width}}  {'':>9}  {metric.name} = {metric.value:.6g}{threshold}")
    lines.append("")
    for stage in result.stages:
        attempts = f"{stage.attempts} sandbox run{'s' if stage.attempts != 1 else ''}"
        lines.append(f"Stage {stage.stage}: {stage.backend}, {attempts}, {stage.duration_s:.2f} s")
        lines.extend(f"  ! {problem}" for problem in stage.problems)
    return "\n".join(lines)
