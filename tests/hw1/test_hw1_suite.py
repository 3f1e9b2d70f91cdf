"""Homework 1 end to end: the reference earns every automatic point, equivalent forms too, and each
check, given a submission that is wrong only there, takes exactly its points and names the answer."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader_core.config import Settings
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite
from tests.conftest import REPO, grade_folder, write_answers

REFERENCE = yaml.safe_load((REPO / "test_suites/reference_solutions/hw1/answers.yaml").read_text())

# One wrong answer per automatic test: the usual mistake for that part.
MISTAKES: dict[str, tuple[str, Any]] = {
    "q1-alpha": ("q1.alpha", "1/pi"),
    "q1-p-inner": ("q1.p_r_le_quarter", "3/4*exp(1/4)"),
    "q1-p-ring": ("q1.p_r_half_to_three_quarters", "exp(3/4)/4 - exp(1/2)/2"),
    "q1-xy-independent": ("q1.xy_independent", True),
    "q1-polar-density": ("q1.f_polar", "exp(r)/(2*pi)"),  # the Jacobian r forgotten
    "q1-polar-independent": ("q1.polar_independent", False),
    "q2-alpha": ("q2.alpha", 2),
    "q2-p-i": ("q2.p_i", "1/i**2"),
    "q2-p-n": ("q2.p_n", "zeta(n)"),  # the i = 1 term not removed
    "q2-p-i-given-n": ("q2.p_i_given_n", "i**(-n)"),
    "q2-p-n-given-i": ("q2.p_n_given_i", "i**(-n)"),
    "q2-independent": ("q2.independent", True),
    "q3-f-m": ("q3.f_m", {-1: 0.04, 0: 0.05, 1: 0.30}),  # a column of the joint, not the marginal
    "q3-f-n": ("q3.f_n", {1: 0.4, 2: 0.6}),
    "q3-f-m-given-n": ("q3.f_m_given_n", {1: {-1: 0.04, 0: 0.05, 1: 0.30}, 2: {-1: 0.06, 0: 0.08, 1: 0.47}}),
    "q3-f-n-given-m": ("q3.f_n_given_m", {-1: {1: 0.04, 2: 0.06}, 0: {1: 0.05, 2: 0.08}, 1: {1: 0.30, 2: 0.47}}),
    "q3-independent": ("q3.independent", True),
    "q5-joint": ("q5.joint", 24),
    "q5-a-given-b": ("q5.a_given_b", 12),
    "q5-b-given-a": ("q5.b_given_a", 12),
    "q5-a-given-bc": ("q5.a_given_bc", 24),
    "q5-c-given-ab": ("q5.c_given_ab", 24),
    "q5-ab-given-c": ("q5.ab_given_c", 23),
    "q5-mutually-independent": ("q5.joint_mutually_independent", 9),
    "q5-conditionally-independent": ("q5.joint_b_indep_c_given_a", 15),
}


def with_answer(key: str, value: Any) -> dict[str, Any]:
    answers = copy.deepcopy(REFERENCE)
    section, name = key.split(".")
    answers[section][name] = value
    return answers


def test_every_automatic_test_has_a_mistake(hw1: LoadedSuite) -> None:
    automatic = {test.id for test in hw1.suite.tests if test.check != "manual"}
    assert automatic == set(MISTAKES)


def test_reference_scores_every_automatic_point(hw1: LoadedSuite, sandbox: Sandbox, settings: Settings) -> None:
    result = grade_folder(hw1, REPO / "test_suites/reference_solutions/hw1", sandbox, settings)
    assert result.automatic_max_score == 41
    assert result.score == 41, [t.feedback for t in result.tests if t.status != "passed"]
    assert result.pending_manual_points == 5
    assert [t.id for t in result.tests if t.status == "pending"] == ["q4-proof"]
    assert result.environment.sandbox_backend == sandbox.name


def test_equivalent_forms_score_every_automatic_point(hw1: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    answers = copy.deepcopy(REFERENCE)
    answers["q1"].update(
        alpha="0.5/pi",
        p_r_le_quarter="1-0.75*e^(0.25)",
        p_r_half_to_three_quarters="(2*sqrt(E) - E**(3/4))/4",
        xy_independent="no",
        f_polar="r*E**r/(pi*2) + 0*theta",
        polar_independent="yes",
    )
    answers["q2"].update(
        alpha="zeta(2)/zeta(2)",
        p_i="1/(i-1) - 1/i",
        p_n="Sum(1/k**n, (k, 2, oo))",
        p_i_given_n="1/(i**n*(zeta(n)-1))",
        p_n_given_i="(i-1)/i**(n-1)",
    )
    answers["q3"]["f_m_given_n"] = {1: {-1: 0.102564102564103, 0: 0.128205128205128, 1: "10/13"}, 2: {-1: "0.06/0.61", 0: "8/61", 1: "47/61"}}
    answers["q5"]["joint"] = "4*3*2 - 1"
    result = grade_folder(hw1, write_answers(tmp_path / "sub", answers), bwrap_sandbox, settings)
    assert result.score == 41, [(t.id, t.feedback) for t in result.tests if t.status != "passed"]


@pytest.mark.parametrize("test_id", sorted(MISTAKES))
def test_a_mistake_costs_exactly_its_points(test_id: str, hw1: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    key, wrong = MISTAKES[test_id]
    result = grade_folder(hw1, write_answers(tmp_path / "sub", with_answer(key, wrong)), bwrap_sandbox, settings)
    by_id = {test.id: test for test in result.tests}
    target = by_id[test_id]
    assert result.score == pytest.approx(41 - target.max_score)
    assert target.status == "failed" and target.score == 0
    assert key in target.feedback and "not correct" in target.feedback
    assert all(test.status in ("passed", "pending") for test in result.tests if test.id != test_id)


def test_one_wrong_table_entry_earns_partial_credit(hw1: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    answers = with_answer("q3.f_m", {-1: 0.10, 0: 0.31, 1: 0.77})
    result = grade_folder(hw1, write_answers(tmp_path / "sub", answers), bwrap_sandbox, settings)
    test = next(test for test in result.tests if test.id == "q3-f-m")
    assert test.status == "partial"
    assert test.score == pytest.approx(2 * 2 / 3)
    assert "[0]" in test.feedback and "0.13" not in test.feedback


MALFORMED: dict[str, tuple[str, Any, str]] = {
    "q1-alpha": ("q1.alpha", "1/(2*pi", "could not be read"),
    "q1-p-inner": ("q1.p_r_le_quarter", "1/0", "not finite"),
    "q1-xy-independent": ("q1.xy_independent", "maybe", "true or false"),
    "q1-polar-density": ("q1.f_polar", "x*exp(r)", "unknown symbol(s) x"),
    "q3-f-m": ("q3.f_m", 0.5, "must be a table"),
    "q2-alpha": ("q2.alpha", "", "no answer given"),
    "q5-joint": ("q5.joint", "sqrt(-1)", "complex"),
}


@pytest.mark.parametrize("test_id", sorted(MALFORMED))
def test_a_malformed_answer_is_an_error_that_says_why(test_id: str, hw1: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    key, bad, reason = MALFORMED[test_id]
    result = grade_folder(hw1, write_answers(tmp_path / "sub", with_answer(key, bad)), bwrap_sandbox, settings)
    target = next(test for test in result.tests if test.id == test_id)
    assert target.status == "error" and target.score == 0
    assert key in target.feedback and reason in target.feedback
    assert result.score == pytest.approx(41 - target.max_score)


def test_unreadable_answers_file_fails_each_test_with_the_reason(hw1: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    result = grade_folder(hw1, write_answers(tmp_path / "sub", "q1: [unclosed\n"), bwrap_sandbox, settings)
    automatic = [test for test in result.tests if test.status != "pending"]
    assert result.score == 0
    assert all(test.status == "error" and "not valid YAML" in test.feedback for test in automatic)


def test_feedback_never_reveals_expected_values(hw1: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    answers = {section: {name: 0 for name in values} for section, values in REFERENCE.items()}
    result = grade_folder(hw1, write_answers(tmp_path / "sub", answers), bwrap_sandbox, settings)
    text = " ".join(test.feedback for test in result.tests)
    for secret in ("0.159", "2*pi", "zeta(n) - 1", "0.77", "0.39", "23", "0.102"):
        assert secret not in text
