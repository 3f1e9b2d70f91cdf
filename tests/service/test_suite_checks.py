"""Instructors' suites are validated by the API at once and dry-run by a worker (where the sandboxes
are): only a text whose reference solution earns every automatic point and whose planted bugs each
lose exactly the tests they name can be published, a published version grades from the sealed
bundle its dry run checked, and a re-delivered dry run changes nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader_api.models import Assignment, GradingRun, SuiteCheck, SuiteVersion
from grader_api.services.suites import SUITES_DIR, load_for_grading, parse
from grader_core.suite.bundle import build_bundle
from worker.dry_runs import execute_dry_run

from .conftest import REFERENCE_HW1, csrf_of, login, make_student, wait_finished

HW1_TEXT = (SUITES_DIR / "hw1.yaml").read_text()
HW1_MUTANTS = SUITES_DIR / "hw1_mutants" / "mutants.yaml"
ALPHA_MUST_LOSE = "    answers: {q1.alpha: \"1/pi\"}\n    loses: [q1-alpha]\n"
ALPHA_MISNAMED = ALPHA_MUST_LOSE.replace("loses: [q1-alpha]", "loses: [q1-polar-density]")  # survives one, costs another


@pytest.fixture
def own_mutants() -> Iterator[Path]:
    """A copy of HW1's planted bugs for this test to edit, next to them (a YAML at the top of
    test_suites/ would be taken for a suite of its own)."""
    path = HW1_MUTANTS.with_name(f"test-{uuid.uuid4().hex[:8]}.yaml")
    path.write_text(HW1_MUTANTS.read_text())
    yield path
    path.unlink()


def _published(session: Session, slug: str) -> SuiteVersion:
    return session.scalars(select(SuiteVersion).join(Assignment, SuiteVersion.assignment_id == Assignment.id)
                           .where(Assignment.slug == slug)).one()


def _hw1_with_mutants(suite_id: str, mutants: Path) -> str:
    return (HW1_TEXT.replace("id: hw1\n", f"id: {suite_id}\n", 1)
            .replace("mutants: hw1_mutants/mutants.yaml", f"mutants: hw1_mutants/{mutants.name}", 1))


def _checked(client: TestClient, text: str, timeout_s: float = 90.0) -> dict[str, object]:
    """Submit ``text`` for checking and wait for its dry run."""
    headers = {"X-CSRF-Token": csrf_of(client, "/instructor/suites")}
    queued = client.post("/api/v1/suites/check", data={"yaml_text": text}, headers=headers).json()
    assert queued["valid"] and queued["status"] in ("queued", "running", "done"), queued
    deadline = time.monotonic() + timeout_s
    while True:
        state = client.get(f"/api/v1/suites/checks/{queued['check_id']}").json()
        if state["status"] in ("done", "failed"):
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.3)


def _publish(client: TestClient, check_id: object) -> object:
    return client.post("/api/v1/suites/publish", json={"check_id": check_id},
                       headers={"X-CSRF-Token": csrf_of(client, "/instructor/suites")})


def test_a_worker_dry_runs_the_suite_and_only_a_full_score_publishes(rt, course, worker, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    login(client, "instructor@test")
    passing = _checked(client, HW1_TEXT.replace("id: hw1\n", "id: hw1-checked\n", 1))
    assert passing["status"] == "done" and passing["dry_run_passed"]
    assert passing["dry_run_score"] == passing["automatic_max_score"] > 0 and passing["issues"] == []
    assert len(passing["mutants"]) == 6 and all(m["lost"] == m["loses"] and not m["problems"] for m in passing["mutants"])
    page = client.get(f"/instructor/suites/checks/{passing['check_id']}").text
    assert 'id="mutants"' in page and page.count("caught, nothing else lost") == 6 and 'id="publish"' in page
    published = _publish(client, passing["check_id"])
    assert published.status_code == 200 and published.json()["assignment"] == "hw1-checked" and published.json()["version"] == 1
    with rt.db.session() as session:
        version = _published(session, "hw1-checked")
        assert version.bundle_sha256 == passing["bundle_sha256"] is not None

    wrong_key = HW1_TEXT.replace("id: hw1\n", "id: hw1-wrong\n", 1).replace('expected: "1/(2*pi)"', 'expected: "1/pi"', 1)
    assert wrong_key != HW1_TEXT.replace("id: hw1\n", "id: hw1-wrong\n", 1)
    failing = _checked(client, wrong_key)
    assert failing["status"] == "done" and not failing["dry_run_passed"]
    assert failing["dry_run_score"] < failing["automatic_max_score"]
    assert [line.split(":")[0] for line in failing["failing_tests"]] == ["q1-alpha"]
    refused = _publish(client, failing["check_id"])
    assert refused.status_code == 409 and "has not passed its dry run" in refused.json()["detail"]
    assert _publish(client, 10**9).status_code == 404


def test_a_planted_bug_that_survives_or_costs_another_test_refuses_publishing(rt, course, worker, client: TestClient,  # type: ignore[no-untyped-def]
                                                                              own_mutants: Path) -> None:
    own_mutants.write_text(own_mutants.read_text().replace(ALPHA_MUST_LOSE, ALPHA_MISNAMED, 1))
    login(client, "instructor@test")
    state = _checked(client, _hw1_with_mutants("hw1-survivor", own_mutants))
    assert state["status"] == "done" and state["dry_run_score"] == state["automatic_max_score"]
    assert not state["dry_run_passed"] and state["failing_tests"] == []
    problems = {m["id"]: m["problems"] for m in state["mutants"]}
    assert [p.split(" (")[0] for p in problems.pop("alpha_without_two")] == [
        "alpha_without_two survives q1-polar-density", "alpha_without_two also costs q1-alpha"]
    assert len(problems) == 5 and not any(problems.values())
    refused = _publish(client, state["check_id"])
    assert refused.status_code == 409 and "planted bug" in refused.json()["detail"]
    page = client.get(f"/instructor/suites/checks/{state['check_id']}").text
    assert "q1-polar-density: <strong>survived</strong>" in page and "also costs q1-alpha" in page and 'id="publish"' not in page


def test_a_suite_without_planted_bugs_publishes_but_says_nothing_proves_it(rt, course, worker, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    login(client, "instructor@test")
    unproven = HW1_TEXT.replace("id: hw1\n", "id: hw1-unproven\n", 1).replace("mutants: hw1_mutants/mutants.yaml\n", "", 1)
    state = _checked(client, unproven)
    assert state["dry_run_passed"] and state["mutants"] == []
    page = client.get(f"/instructor/suites/checks/{state['check_id']}").text
    assert 'id="no-mutants"' in page and 'id="publish"' in page


def test_a_published_version_grades_from_its_bundle_whatever_changes_on_disk(rt, course, worker, client: TestClient,  # type: ignore[no-untyped-def]
                                                                            own_mutants: Path) -> None:
    login(client, "instructor@test")
    text = _hw1_with_mutants("hw1-sealed", own_mutants)
    checked = _checked(client, text)
    assert checked["dry_run_passed"] and _publish(client, checked["check_id"]).status_code == 200
    sealed = checked["bundle_sha256"]

    # After publishing, a file the suite names changes on disk (here: a planted bug, which would now
    # refuse publishing): only a new bundle, so a new version, would carry the change.
    own_mutants.write_text(own_mutants.read_text().replace(ALPHA_MUST_LOSE, ALPHA_MISNAMED, 1))
    assert build_bundle(parse(text)).sha256 != sealed
    with rt.db.session() as session:
        version = _published(session, "hw1-sealed")
        loaded = load_for_grading(version, rt.settings)
    assert version.bundle_sha256 == loaded.bundle_sha256 == sealed
    assert ALPHA_MUST_LOSE in (loaded.path.parent / "hw1_mutants" / own_mutants.name).read_text()

    login(client, make_student(rt, course["course"], password=True).email)
    upload = client.post("/api/v1/assignments/hw1-sealed/submissions", files={"file": ("answers.yaml", REFERENCE_HW1.read_bytes())},
                         headers={"X-CSRF-Token": csrf_of(client, "/assignments")})
    assert upload.status_code == 201, upload.text
    with rt.db.session() as session:
        run_id = session.scalar(select(GradingRun.id).where(GradingRun.submission_id == upload.json()["id"]))
    run = wait_finished(rt, [run_id])[run_id]
    assert run.status == "graded" and run.score == run.automatic_max_score
    assert run.environment is not None and run.environment["bundle_sha256"] == sealed


def test_invalid_suites_are_answered_at_once_and_queue_nothing(rt, course, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    login(client, "instructor@test")
    with rt.db.session() as session:
        before = session.scalar(select(func.count()).select_from(SuiteCheck))
    broken = HW1_TEXT.replace("check: numeric_answer", "check: no_such_check", 1)
    answer = client.post("/api/v1/suites/check", data={"yaml_text": broken},
                         headers={"X-CSRF-Token": csrf_of(client, "/instructor/suites")}).json()
    assert not answer["valid"] and answer["check_id"] is None
    assert any("no_such_check" in issue["message"] and issue["line"] > 1 for issue in answer["issues"])
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(SuiteCheck)) == before


def test_a_redelivered_dry_run_changes_nothing(rt, course, worker, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    login(client, "instructor@test")
    done = _checked(client, HW1_TEXT.replace("id: hw1\n", "id: hw1-again\n", 1))
    with rt.db.session() as session:
        finished = session.get_one(SuiteCheck, done["check_id"])
        finished_at = finished.finished_at
    assert execute_dry_run(rt, done["check_id"], finished.task_id) == "skipped"
    with rt.db.session() as session:
        assert session.get_one(SuiteCheck, done["check_id"]).finished_at == finished_at


@pytest.mark.parametrize("role", ["student", "ta"])
def test_only_instructors_see_dry_runs(role: str, rt, course, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    login(client, "ta@test" if role == "ta" else make_student(rt, course["course"], password=True).email)
    assert client.get("/api/v1/suites/checks/1").status_code == 403
    assert client.get("/instructor/suites/checks/1").status_code == 403
