"""Malformed model outputs are the submission's errors, reported in words, and cost only the tests
that needed them: NaNs, wrong shapes, logits where probabilities belong, probabilities where
samples belong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader_core.config import Settings
from grader_core.mutants import Mutant, plant
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite, load_suite
from tests.conftest import REPO, SUITES, grade_folder, subsuite

REFERENCE = REPO / "test_suites" / "reference_solutions" / "hw2"
CONDITIONAL_TESTS = {"p8_linear-parents", "p8_linear-sharing", "p8_linear-linear", "p8_linear-nll", "p8_linear-ancestral"}

# case -> (the change to p8_linear's model, the tests that must error, words in their feedback)
CASES: dict[str, tuple[str, set[str], str]] = {
    "nan_conditionals": ("plain = model.conditionals\nmodel.conditionals = lambda x: plain(x) * float('nan')",
                         CONDITIONAL_TESTS, "NaN or infinite"),
    "flat_conditionals": ("plain = model.conditionals\nmodel.conditionals = lambda x: plain(x).reshape(len(x), 784)",
                          CONDITIONAL_TESTS, "28, 28], got ["),
    "logits_not_probabilities": ("model.conditionals = model.logits", CONDITIONAL_TESTS, "probabilities in [0, 1]"),
    "probabilities_not_samples": ("draw = model.sample\nmodel.sample = lambda n, generator: draw(n, generator) * 0.5",
                                  {"p8_linear-ancestral"}, "samples must contain only 0 and 1"),
}


@pytest.fixture(scope="module")
def p8_linear() -> LoadedSuite:
    return subsuite(load_suite(SUITES / "hw2.yaml"), "p8_linear")


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_malformed_output_is_an_error_for_the_tests_that_read_it(case: str, p8_linear: LoadedSuite, bwrap_sandbox: Sandbox,
                                                                   settings: Settings, tmp_path: Path) -> None:
    change, erroring, words = CASES[case]
    bug = tmp_path / f"{case}.py"
    bug.write_text("from _reference import load_model as reference_load\n\n\ndef load_model(config, weights_dir):\n"
                   "    model = reference_load(config, weights_dir)\n" + textwrap.indent(change, "    ") + "\n    return model\n")
    mutant = Mutant(id=case, replace="bn_digits.py", by=bug.name, loses=sorted(erroring))
    result = grade_folder(p8_linear, plant(mutant, REFERENCE, tmp_path, None, tmp_path / "submission"), bwrap_sandbox, settings)
    statuses = {test.id: test.status for test in result.tests}
    assert {test_id for test_id, status in statuses.items() if status == "error"} == erroring, statuses
    assert all(status == "passed" for test_id, status in statuses.items() if test_id not in erroring), statuses
    for test in result.tests:
        if test.id in erroring:
            assert test.score == 0 and words in test.feedback, (test.id, test.feedback)
