"""Homework 3, Q2: the reference Image GPT earns every point; each planted bug costs the check
named for it (and, where the bug necessarily breaks them, the checks listed with it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader_core.config import Settings
from grader_core.results import GradingResult
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite, load_suite
from tests.conftest import REPO, SUITES, grade_folder, plant_bug

REFERENCE = REPO / "test_suites" / "reference_solutions" / "hw3"
BUGGY = Path(__file__).with_name("buggy_igpt")

# bug -> (tests it must fail, words in the named check's feedback)
BUGS: dict[str, tuple[set[str], str]] = {
    # Conditionals that see later pixels are not the conditionals the (causal, cached) sampler draws
    # from, so the ancestral z-test fails with them; and trained weights given context they were never
    # trained on predict worse, so the likelihood drops below full credit.
    "no_causal_mask": ({"igpt-causal", "igpt-ancestral", "igpt-nll"}, "later in `order`"),
    "mask_shifted": ({"igpt-causal", "igpt-ancestral", "igpt-nll"}, "depends on the pixel itself"),
    "wrong_order": ({"igpt-causal"}, "does `order` not match the conditionals"),
    # Greedy decoding returns one image whatever the generator: ancestral sampling fails, and so do
    # sample quality (mode collapse) and reproducibility (different seeds, identical images).
    "argmax_sampler": ({"igpt-ancestral", "igpt-fid", "igpt-reproducible"}, "not drawn from the model's own conditionals"),
    "sampling_temperature": ({"igpt-ancestral"}, "not drawn from the model's own conditionals"),
    "ignores_generator": ({"igpt-reproducible"}, "must draw all randomness from the generator"),
    "twelve_layers": ({"igpt-config"}, "n_layer = 12"),
}
# The check each bug is written for, whose feedback must name it.
NAMED = {"no_causal_mask": "igpt-causal", "mask_shifted": "igpt-causal", "wrong_order": "igpt-causal",
         "argmax_sampler": "igpt-ancestral", "sampling_temperature": "igpt-ancestral",
         "ignores_generator": "igpt-reproducible", "twelve_layers": "igpt-config"}


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
    folder = plant_bug(REFERENCE, "igpt.py", BUGGY / f"{bug}.py", tmp_path / bug)
    result = grade_folder(hw3, folder, bwrap_sandbox, settings)
    by_id = {test.id: test for test in result.tests}
    lost = {test.id for test in result.tests if test.status != "passed"}
    assert lost == failing, {test_id: by_id[test_id].feedback for test_id in lost}
    named = by_id[NAMED[bug]]
    assert named.score == 0 and words in named.feedback, named.feedback
    assert result.score < reference_result.score - named.max_score + 1e-9
