"""Time budgets sized for the code students write: grade a plain, correct implementation of each
homework (``bench/student_style/``: a sampler without the reference's shortcuts) and print, for each
test, the runner time of its probes next to the probe timeout, and the headroom (target >= 2x).

    .venv/bin/python bench/student_budgets.py [--backend bwrap] [--suite hw3]

Runs on this machine's cores as the sandbox gets them (one CPU per stage unless the suite says
otherwise), so the figures are those of a student's submission on a worker.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from grader_core.config import PROJECT_ROOT, Settings
from grader_core.mutants import with_replaced_file
from grader_core.pipeline import grade_upload
from grader_core.sandbox import select_sandbox
from grader_core.suite import load_suite

STUDENT_STYLE = Path(__file__).resolve().parent / "student_style"
# suite -> (the reference's module, the plain version of it)
PLAIN = {"hw2": ("bn_digits.py", "hw2_bn_digits.py"), "hw3": ("igpt.py", "hw3_igpt.py")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="bwrap")
    parser.add_argument("--suite", choices=sorted(PLAIN), action="append")
    args = parser.parse_args()
    settings = Settings()
    sandbox = select_sandbox(settings, args.backend)
    for suite_id in args.suite or sorted(PLAIN):
        module, plain = PLAIN[suite_id]
        loaded = load_suite(PROJECT_ROOT / "test_suites" / f"{suite_id}.yaml")
        assert loaded.reference_solution is not None
        with tempfile.TemporaryDirectory() as scratch:
            folder = with_replaced_file(loaded.reference_solution, module, STUDENT_STYLE / plain, Path(scratch) / suite_id)
            result = grade_upload(loaded, folder, sandbox, settings)
        print(f"{suite_id} written plainly ({plain}): {result.score:g}/{result.automatic_max_score:g} points")
        for test in sorted(result.tests, key=lambda test: -test.duration_s):
            if test.status == "pending" or test.duration_s < 0.5:
                continue
            limit = loaded.suite.stages[test.stage].probe_timeout_seconds
            print(f"  {test.id:<26} {test.duration_s:7.1f} s of {limit:g} s allowed: headroom {limit / test.duration_s:4.1f}x"
                  f"{'' if test.status == 'passed' else '  ' + test.status + ': ' + test.feedback[:120]}")


if __name__ == "__main__":
    main()
