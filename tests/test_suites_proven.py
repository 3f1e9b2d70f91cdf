"""Every suite in test_suites/ is proven by its planted bugs: the reference earns every automatic
point, and each bug (test_suites/<suite>_mutants/mutants.yaml) loses exactly the tests it names,
with feedback that names it. A new homework is proven by adding files only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader_core.config import Settings
from grader_core.mutants import Mutant, Verdict, load_mutants, plant, power, run_matrix
from grader_core.pipeline import grade_upload
from grader_core.results import GradingResult
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite, load_suite
from tests.conftest import SUITES, subsuite

PROVEN = sorted(path.stem for path in SUITES.glob("*.yaml") if load_suite(path).suite.mutants)
CASES = [(suite, mutant.id) for suite in PROVEN for mutant in load_mutants(load_suite(SUITES / f"{suite}.yaml"))[1]]
_references: dict[str, GradingResult] = {}


def _reference(loaded: LoadedSuite, sandbox: Sandbox, settings: Settings) -> GradingResult:
    if loaded.suite.id not in _references:
        assert loaded.reference_solution is not None
        _references[loaded.suite.id] = grade_upload(loaded, loaded.reference_solution, sandbox, settings)
    return _references[loaded.suite.id]


def test_every_bundled_homework_plants_bugs() -> None:
    assert PROVEN == ["hw1", "hw2", "hw3"]


@pytest.mark.parametrize("suite", PROVEN)
def test_every_automatic_check_of_the_suite_has_a_bug_that_bites(suite: str) -> None:
    loaded = load_suite(SUITES / f"{suite}.yaml")
    check_of = {test.id: test.check for test in loaded.suite.tests}
    bitten = {check_of[test_id] for mutant in load_mutants(loaded)[1] for test_id in mutant.loses}
    assert {test.check for test in loaded.suite.tests if test.check != "manual"} == bitten


@pytest.mark.timeout(900)  # the first case of a suite also grades its reference
@pytest.mark.parametrize(("suite", "mutant_id"), CASES, ids=[f"{suite}-{mutant}" for suite, mutant in CASES])
def test_a_planted_bug_loses_exactly_the_tests_it_names(suite: str, mutant_id: str, bwrap_sandbox: Sandbox,
                                                        settings: Settings, tmp_path: Path) -> None:
    loaded = load_suite(SUITES / f"{suite}.yaml")
    reference = _reference(loaded, bwrap_sandbox, settings)
    assert [(t.id, t.feedback) for t in reference.tests if t.status not in ("passed", "pending")] == []
    mutants_dir, mutants = load_mutants(loaded)
    mutant = next(m for m in mutants if m.id == mutant_id)
    assert loaded.reference_solution is not None
    folder = plant(mutant, loaded.reference_solution, mutants_dir, loaded.suite.submission.answers_file, tmp_path / mutant.id)
    verdict = Verdict(mutant, grade_upload(loaded, folder, bwrap_sandbox, settings), reference)
    assert verdict.problems() == []


def _hw1_copy(tmp_path: Path, mutants: str) -> LoadedSuite:
    suites = tmp_path / "suites"
    shutil.copytree(SUITES / "reference_solutions" / "hw1", suites / "reference_solutions" / "hw1")
    shutil.copy(SUITES / "hw1.yaml", suites / "hw1.yaml")
    (suites / "hw1_mutants").mkdir()
    (suites / "hw1_mutants" / "mutants.yaml").write_text(mutants)
    return load_suite(suites / "hw1.yaml")


def test_a_bug_that_survives_or_costs_another_test_fails_the_matrix(bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    loaded = _hw1_copy(tmp_path, "mutants:\n"
                       "  - {id: mislabelled, answers: {q1.alpha: '1/pi'}, loses: [q1-p-inner]}\n"
                       "  - {id: unnamed, answers: {q5.joint: 24}, loses: [q5-joint], feedback: {q5-joint: 'no such words'}}\n")
    matrix = run_matrix(loaded, _reference(load_suite(SUITES / "hw1.yaml"), bwrap_sandbox, settings), bwrap_sandbox, settings)
    problems = matrix.problems()
    assert any(p.startswith("mislabelled survives q1-p-inner") for p in problems), problems
    assert any(p.startswith("mislabelled also costs q1-alpha") for p in problems), problems
    assert any(p.startswith("unnamed: the feedback of q5-joint does not say 'no such words'") for p in problems), problems
    assert len(problems) == 3
    rows = matrix.render().splitlines()
    assert rows[1].split()[0] == "mislabelled" and set(rows[1].split()[1:]) == {"!", "o", "."}


def test_a_mutants_file_naming_unknown_tests_is_refused(tmp_path: Path) -> None:
    from grader_core.suite import SuiteError

    loaded = _hw1_copy(tmp_path, "mutants:\n  - {id: typo, answers: {q1.alpha: '1/pi'}, loses: [q1-alpah]}\n")
    with pytest.raises(SuiteError, match="unknown test q1-alpah"):
        load_mutants(loaded)


def test_a_mutant_is_exactly_one_kind_of_change() -> None:
    with pytest.raises(ValueError, match="exactly one of"):
        Mutant.model_validate({"id": "both", "answers": {"a": 1}, "edit": {"file": "a.py", "old": "x", "new": "y"}, "loses": ["t"]})
    with pytest.raises(ValueError, match="inside the suite's own folder"):
        Mutant.model_validate({"id": "escape", "replace": "../../etc/passwd", "by": "x.py", "loses": ["t"]})


def test_error_rates_are_measured_under_many_seeds(bwrap_sandbox: Sandbox, settings: Settings) -> None:
    """``suite power`` at a small seed count (the README quotes it at 30): the reference never loses
    a point, and every bug loses every test it names under every seed."""
    report = power(load_suite(SUITES / "hw1.yaml"), bwrap_sandbox, settings, seeds=[11, 12])
    assert set(report.false_fails().values()) == {0}
    assert set(report.detections().values()) == {2} and set(report.collateral().values()) == {0}
    assert "alpha_without_two" in report.render()


def test_the_same_bundle_and_seed_give_the_same_verdicts(bwrap_sandbox: Sandbox, settings: Settings) -> None:
    """The statistical checks draw every random probe from the secret seed: a regrade under the same
    seed repeats each verdict exactly, feedback and all."""
    loaded = subsuite(load_suite(SUITES / "hw3.yaml"), "igpt-")
    reference = loaded.reference_solution
    assert reference is not None
    first, second = (grade_upload(loaded, reference, bwrap_sandbox, settings, secret_seed=2026) for _ in range(2))
    assert [(t.id, t.score, t.feedback) for t in first.tests] == [(t.id, t.score, t.feedback) for t in second.tests]
