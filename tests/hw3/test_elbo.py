"""Homework 3, Q1: the reference ELBO earns every point on both sandboxes; an error the diagnosis does
not recognise is reported without giving the formula away; wrong return types are errors. (The usual
mistakes, each named in the feedback, are planted bugs: test_suites/hw3_mutants/mutants.yaml.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader_core.config import Settings
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite, load_suite
from tests.conftest import REPO, SUITES, grade_folder, subsuite

REFERENCE = (REPO / "test_suites/reference_solutions/hw3/elbo.py").read_text()


@pytest.fixture(scope="module")
def hw3() -> LoadedSuite:
    """Question 1 of the suite alone."""
    return subsuite(load_suite(SUITES / "hw3.yaml"), "elbo-")


def submit(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "elbo.py").write_text(source)
    return folder


def test_reference_earns_every_point(hw3: LoadedSuite, sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    result = grade_folder(hw3, submit(tmp_path, REFERENCE), sandbox, settings)
    assert result.score == result.automatic_max_score == 10, [t.feedback for t in result.tests]


def test_an_unrecognised_error_is_reported_without_a_formula(hw3: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    result = grade_folder(hw3, submit(tmp_path, REFERENCE.replace("return float(np.sum(", "return 0.9 * float(np.sum(")), bwrap_sandbox, settings)
    feedback = result.tests[0].feedback
    assert result.tests[0].status == "failed" and "not correct at" in feedback and "log" not in feedback


def test_wrong_return_types_are_errors(hw3: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    result = grade_folder(hw3, submit(tmp_path, "def elbo(Q, w, sigma, v):\n    return float('nan')\n"), bwrap_sandbox, settings)
    assert all(test.status == "error" and "not finite" in test.feedback for test in result.tests)
