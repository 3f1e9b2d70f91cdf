"""A worker's time is bounded by the suite: a stage's wall budget covers all of its sandbox runs
(resumptions after a crash included), and a model loader that times out is not entered again by
every probe that needs the model. Through both backends."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from grader_api.services.suites import routing
from grader_core.config import Settings
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite, load_suite
from tests.conftest import grade_folder

MODEL_TESTS = ("config", "reproducible")
HONEST = "\n\ndef honest():\n    return 1\n"
# Sandbox start-up and the kill at the deadline; far below another run's worth of budget.
SLACK_S = 5.0


@pytest.fixture(scope="module")
def blocking_suite() -> LoadedSuite:
    return load_suite(Path(__file__).with_name("blocking_model.yaml"))


def _grade(loader: str, suite: LoadedSuite, sandbox: Sandbox, settings: Settings, tmp_path: Path) -> tuple[dict, float]:  # type: ignore[type-arg]
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "main.py").write_text(textwrap.dedent(loader) + HONEST)
    started = time.monotonic()
    result = grade_folder(suite, folder, sandbox, settings)
    return {test.id: test for test in result.tests}, time.monotonic() - started


def test_a_loader_that_times_out_fails_every_probe_of_its_model_at_once(blocking_suite, sandbox, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    stage = blocking_suite.suite.stages["main"]
    tests, elapsed = _grade(
        """
        import time
        def load_model(weights_dir):
            time.sleep(10**6)
        """,
        blocking_suite, sandbox, settings, tmp_path,
    )
    limit = f"{stage.probe_timeout_seconds:g} s"
    for test_id in MODEL_TESTS:
        feedback = tests[test_id].feedback
        assert tests[test_id].status == "error", feedback
        assert f"load_model() did not return within {limit}; the grader allows {limit} on one CPU core" in feedback
    assert tests["honest"].status == "passed", tests["honest"].feedback
    # One probe waited for the loader; the three others did not wait again (the old runner took four).
    assert elapsed < 2 * stage.probe_timeout_seconds + SLACK_S


def test_a_loader_that_swallows_its_timeout_costs_at_most_the_stage_budget(blocking_suite, sandbox, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The probe timer cannot stop it, so the sandbox's wall clock does; the resumptions after that
    get what is left of the stage's budget, which is nothing (it took three budgets before)."""
    stage = blocking_suite.suite.stages["main"]
    tests, elapsed = _grade(
        """
        import time
        def load_model(weights_dir):
            while True:
                try:
                    time.sleep(3600)
                except BaseException:
                    pass
        """,
        blocking_suite, sandbox, settings, tmp_path,
    )
    assert elapsed <= stage.wall_seconds + SLACK_S
    assert elapsed <= routing(blocking_suite).soft_limit_s  # the worker's time limit for this suite
    assert tests["honest"].status == "passed", tests["honest"].feedback
    assert "stopped at the time limit" in tests["config"].feedback
    spent = f"the stage's time budget of {stage.wall_seconds:g} s was spent"
    assert spent in tests["reproducible"].feedback and tests["reproducible"].status == "error"
