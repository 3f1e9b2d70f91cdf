"""Homework 2 end to end: the reference earns every automatic point, and each planted bug costs
exactly the points of the check named for it, with feedback that names the bug."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader_core.config import Settings
from grader_core.results import GradingResult
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite, load_suite
from tests.conftest import REPO, SUITES, grade_folder, plant_bug

REFERENCE = REPO / "test_suites" / "reference_solutions" / "hw2"
BUGGY = Path(__file__).with_name("buggy")

# bug -> (the tests it must fail, words the feedback must contain)
BUGS: dict[str, tuple[set[str], str]] = {
    "sees_own_pixel": ({"p3_linear-parents"}, "the pixel itself"),
    "top_right_parent": ({"p15_linear-parents"}, "(-1, +1) (above-right)"),
    "ignores_positional": ({"p8_mlp1_pos-sharing"}, "positional features are ignored"),
    "nonlinear_linear": ({"p15_linear-linear"}, "not affine in the parents"),
    "argmax_sampler": ({"p8_linear-ancestral"}, "not drawn from the model's own conditionals"),
    "independent_sampler": ({"p8_linear-ancestral"}, "not drawn from the model's own conditionals"),
    "random_weights": ({"p3_linear-nll"}, "no credit"),
    "ignores_generator": ({"p8_mlp1-reproducible"}, "must draw all randomness from the generator"),
    "inverted_draw": ({"p15_linear-fid"}, "mode collapse, no credit"),
}


@pytest.fixture(scope="module")
def hw2() -> LoadedSuite:
    return load_suite(SUITES / "hw2.yaml")


@pytest.fixture(scope="module")
def reference_result(hw2: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings) -> GradingResult:
    return grade_folder(hw2, REFERENCE, bwrap_sandbox, settings)


def test_reference_scores_every_automatic_point(reference_result: GradingResult) -> None:
    failing = [(test.id, test.feedback) for test in reference_result.tests if test.status not in ("passed", "pending")]
    assert failing == []
    assert reference_result.score == reference_result.automatic_max_score


def test_every_model_check_has_a_bug_that_bites(hw2: LoadedSuite) -> None:
    bitten = {hw2.suite.tests[[t.id for t in hw2.suite.tests].index(test_id)].check for tests, _ in BUGS.values() for test_id in tests}
    model_checks = {test.check for test in hw2.suite.tests if test.check not in ("numeric_answer", "manual")}
    assert model_checks == bitten


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_a_bug_costs_exactly_its_check(bug: str, hw2: LoadedSuite, reference_result: GradingResult,
                                       bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    failing_ids, words = BUGS[bug]
    result = grade_folder(hw2, plant_bug(REFERENCE, "bn_digits.py", BUGGY / f"{bug}.py", tmp_path / bug), bwrap_sandbox, settings)
    by_id = {test.id: test for test in result.tests}
    lost = {test.id for test in result.tests if test.status not in ("passed", "pending")}
    assert lost == failing_ids, {test_id: by_id[test_id].feedback for test_id in lost}
    for test_id in failing_ids:
        assert by_id[test_id].score == 0 and words in by_id[test_id].feedback, by_id[test_id].feedback
    assert result.score == pytest.approx(reference_result.score - sum(by_id[t].max_score for t in failing_ids))
