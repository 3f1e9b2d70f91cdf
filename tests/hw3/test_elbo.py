"""Homework 3, Q1: the reference ELBO earns every point; each usual mistake is named and costs the
value check (and the bound check where the mistake breaks the bound)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader_core.config import Settings
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite, load_suite
from tests.conftest import REPO, SUITES, grade_folder, subsuite

REFERENCE = (REPO / "test_suites/reference_solutions/hw3/elbo.py").read_text()

# mistake -> (the edit that plants it, the words the feedback must use, tests that must fail)
MISTAKES: dict[str, tuple[tuple[str, str], str, set[str]]] = {
    "no_entropy": (("log_likelihood + entropy", "log_likelihood"), "the entropy term is missing", {"elbo-value", "elbo-bound"}),
    "entropy_sign": (("log_likelihood + entropy", "log_likelihood - entropy"), "the entropy term has the wrong sign", {"elbo-value", "elbo-bound"}),
    "no_prior": (("log_prior + log_likelihood", "log_likelihood"), "the log-prior term is missing", {"elbo-value", "elbo-bound"}),
    "no_normalizer": (("-0.5 * math.log(2 * math.pi * sigma**2) - expected_square", "-expected_square"), "-1/2 log(2 pi sigma^2) term is missing", {"elbo-value", "elbo-bound"}),
    "mean_squared": (("+ w[1] ** 2 * mu1 * (1 - mu1) + w[2] ** 2 * mu2 * (1 - mu2)", ""), "E[h^2] was replaced by E[h]^2", {"elbo-value", "elbo-bound"}),
    "sigma_for_variance": (("sigma**2", "sigma"), "sigma is used where sigma^2 belongs", {"elbo-value", "elbo-bound"}),
}


@pytest.fixture(scope="module")
def hw3() -> LoadedSuite:
    """Question 1 of the suite alone (its Image GPT tests are exercised in test_igpt.py)."""
    return subsuite(load_suite(SUITES / "hw3.yaml"), "elbo-")


def submit(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "elbo.py").write_text(source)
    return folder


def test_reference_earns_every_point(hw3: LoadedSuite, sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    result = grade_folder(hw3, submit(tmp_path, REFERENCE), sandbox, settings)
    assert result.score == result.automatic_max_score == 10, [t.feedback for t in result.tests]


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_is_named(mistake: str, hw3: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    (old, new), words, failing = MISTAKES[mistake]
    assert old in REFERENCE
    result = grade_folder(hw3, submit(tmp_path, REFERENCE.replace(old, new)), bwrap_sandbox, settings)
    by_id = {test.id: test for test in result.tests}
    assert words in by_id["elbo-value"].feedback
    assert {test.id for test in result.tests if test.status != "passed"} == failing
    assert result.score == 10 - sum(by_id[test_id].max_score for test_id in failing)


def test_an_unrecognised_error_is_reported_without_a_formula(hw3: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    result = grade_folder(hw3, submit(tmp_path, REFERENCE.replace("return float(np.sum(", "return 0.9 * float(np.sum(")), bwrap_sandbox, settings)
    feedback = result.tests[0].feedback
    assert result.tests[0].status == "failed" and "not correct at" in feedback and "log" not in feedback


def test_wrong_return_types_are_errors(hw3: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    result = grade_folder(hw3, submit(tmp_path, "def elbo(Q, w, sigma, v):\n    return float('nan')\n"), bwrap_sandbox, settings)
    assert all(test.status == "error" and "not finite" in test.feedback for test in result.tests)
