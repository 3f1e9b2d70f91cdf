"""Sandbox overhead: a trivial submission graded through each backend vs the same probes in a bare
subprocess (the runner started directly, no isolation), all measured in this one run.

    .venv/bin/python bench/sandbox_overhead.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader_core.config import Settings
from grader_core.pipeline import grade
from grader_core.sandbox.bwrap_backend import BwrapSandbox
from grader_core.sandbox.docker_backend import DockerSandbox
from grader_core.sandbox.image import ensure_image
from grader_core.sandbox.runtime import RUNNER_PACKAGE, RUNNER_SOURCE
from grader_core.suite import parse_suite

SUITE = """
id: trivial
title: Trivial
version: "1"
submission:
  answers_file: answers.yaml
  answers: [{key: a, label: a, kind: number}]
tests:
  - {id: t, title: t, check: numeric_answer, points: 1, params: {key: a, expected: 2}}
"""


def bare_subprocess(submission: Path, scratch: Path) -> float:
    """The runner's own work with no sandbox: the plan written by hand, one python process."""
    (scratch / "pkg").mkdir(exist_ok=True)
    link = scratch / "pkg" / RUNNER_PACKAGE
    if not link.exists():
        link.symlink_to(RUNNER_SOURCE)
    plan = scratch / "plan.json"
    plan.write_text('{"answers_file": "answers.yaml", "probes": [{"id": "t/value", "op": "answer.number", "args": {"key": "a"}}]}')
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-s", "-m", RUNNER_PACKAGE, str(plan), str(submission)],
        env={"PYTHONPATH": str(scratch / "pkg")}, check=True, capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    settings = Settings()
    loaded = parse_suite(SUITE, Path("trivial.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        submission = scratch / "submission"
        submission.mkdir()
        (submission / "answers.yaml").write_text("a: 2\n")
        backends = {}
        if DockerSandbox.available():
            ensure_image(settings.sandbox_image)
            backends["docker"] = DockerSandbox(settings.sandbox_image)
        if BwrapSandbox.available():
            backends["bwrap"] = BwrapSandbox()
        timings: dict[str, list[float]] = {"bare subprocess": [], **{name: [] for name in backends}}
        for _ in range(args.repeats):  # interleaved, so machine noise hits every contender alike
            timings["bare subprocess"].append(bare_subprocess(submission, scratch))
            for name, sandbox in backends.items():
                started = time.perf_counter()
                result = grade(loaded, submission, sandbox, settings)
                timings[name].append(time.perf_counter() - started)
                assert result.score == 1, result.tests[0].feedback
    baseline = statistics.median(timings["bare subprocess"])
    print(f"{'contender':<18}{'median s':>10}{'p90 s':>10}{'x bare':>10}   ({args.repeats} runs each)")
    for name, values in timings.items():
        values.sort()
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        print(f"{name:<18}{statistics.median(values):>10.3f}{p90:>10.3f}{statistics.median(values) / baseline:>10.2f}")


if __name__ == "__main__":
    main()
