"""Time to grade one submission of a homework on this machine, per stage and per test.

    .venv/bin/python bench/grade_homework.py test_suites/hw2.yaml [--backend bwrap] [--submission DIR]

Grades the suite's reference solution (or --submission) once and prints the wall time, the
sandbox time of each stage, the trusted-side time, and the runner time of each test's probes (a
probe shared between tests, such as one set of samples for the ancestral and FID checks, runs once
and is listed under each of them).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from grader_core.config import Settings
from grader_core.pipeline import grade_upload
from grader_core.sandbox import select_sandbox
from grader_core.suite import load_suite


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("suite", type=Path)
    parser.add_argument("--backend", default="bwrap")
    parser.add_argument("--submission", type=Path)
    args = parser.parse_args()
    settings = Settings()
    loaded = load_suite(args.suite)
    sandbox = select_sandbox(settings, args.backend)
    started = time.perf_counter()
    result = grade_upload(loaded, args.submission or loaded.reference_solution, sandbox, settings)
    wall = time.perf_counter() - started
    sandboxed = sum(stage.duration_s for stage in result.stages)
    print(f"{loaded.suite.id}: {result.score:g}/{result.automatic_max_score:g} points, {wall:.1f} s wall on {sandbox.name}")
    for stage in result.stages:
        print(f"  stage {stage.stage}: {stage.duration_s:.1f} s in the sandbox ({stage.attempts} run(s))")
    print(f"  trusted side (planning, validation, scoring, metrics): {wall - sandboxed:.1f} s")
    for test in sorted(result.tests, key=lambda test: -test.duration_s):
        if test.duration_s >= 0.05:
            print(f"    {test.id:<26} {test.duration_s:6.2f} s of probes  ({test.status})")


if __name__ == "__main__":
    main()
