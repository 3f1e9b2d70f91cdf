"""Homework 3, Q2: the reference Image GPT earns every point; each planted bug costs the check
named for it (and, where the bug necessarily breaks them, the checks listed with it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader_core.config import Settings
from grader_core.results import GradingResult
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite, load_suite
from tests.conftest import REPO, SUITES, grade_folder

REFERENCE = REPO / "reference_solutions" / "hw3"
BUGGY = Path(__file__).with_name("buggy_igpt")

# bug -> (tests it must fail, words in the named check's feedback)
BUGS: dict[str, tuple[set[str], str]] = {
    "no_causal_mask": ({"igpt-causal"}, "later in `order`"),
    "mask_shifted": ({"igpt-causal"}, "depends on the pixel itself"),
    "wrong_order": ({"igpt-causal"}, "does `order` not match the conditionals"),
    # An argmax sampler returns one image over and over: ancestral sampling fails, and so does
    # sample quality (mode collapse), necessarily.
    "argmax_sampler": ({"igpt-ancestral", "igpt-fid"}, "not drawn from the model's own conditionals"),
    "twelve_layers": ({"igpt-config"}, "n_layer = 12"),
}


@pytest.fixture(scope="module")
def hw3() -> LoadedSuite:
    return load_suite(SUITES / "hw3.yaml")


@pytest.fixture(scope="module")
def reference_result(hw3: LoadedSuite, bwrap_sandbox: Sandbox, settings: Settings) -> GradingResult:
    return grade_folder(hw3, REFERENCE, bwrap_sandbox, settings)


def test_reference_scores_every_point(reference_result: GradingResult) -> None:
    assert [(t.id, t.feedback) for t in reference_result.tests if t.status != "passed"] == []
    assert reference_result.score == reference_result.automatic_max_score == 28


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_a_bug_costs_its_check(bug: str, hw3: LoadedSuite, reference_result: GradingResult,
                               bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    failing, words = BUGS[bug]
    folder = tmp_path / bug
    shutil.copytree(REFERENCE, folder)
    shutil.copy(REFERENCE / "igpt.py", folder / "_reference.py")
    shutil.copy(BUGGY / f"{bug}.py", folder / "igpt.py")
    result = grade_folder(hw3, folder, bwrap_sandbox, settings)
    by_id = {test.id: test for test in result.tests}
    lost = {test.id for test in result.tests if test.status != "passed"}
    assert lost == failing, {test_id: by_id[test_id].feedback for test_id in lost}
    named = sorted(failing)[0] if bug != "argmax_sampler" else "igpt-ancestral"
    assert words in by_id[named].feedback, by_id[named].feedback
    assert result.score == pytest.approx(reference_result.score - sum(by_id[t].max_score for t in failing))
