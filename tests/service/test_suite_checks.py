"""Instructors' suites are validated by the API at once and dry-run by a worker (where the sandboxes
are): only a text whose reference solution earns every automatic point can be published, and a
re-delivered dry run changes nothing."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from grader_api.models import SuiteCheck
from grader_api.services.suites import SUITES_DIR
from worker.dry_runs import execute_dry_run

from .conftest import csrf_of, login, make_student

HW1_TEXT = (SUITES_DIR / "hw1.yaml").read_text()


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
    published = _publish(client, passing["check_id"])
    assert published.status_code == 200 and published.json()["assignment"] == "hw1-checked" and published.json()["version"] == 1

    wrong_key = HW1_TEXT.replace("id: hw1\n", "id: hw1-wrong\n", 1).replace('expected: "1/(2*pi)"', 'expected: "1/pi"', 1)
    assert wrong_key != HW1_TEXT.replace("id: hw1\n", "id: hw1-wrong\n", 1)
    failing = _checked(client, wrong_key)
    assert failing["status"] == "done" and not failing["dry_run_passed"]
    assert failing["dry_run_score"] < failing["automatic_max_score"]
    assert [line.split(":")[0] for line in failing["failing_tests"]] == ["q1-alpha"]
    refused = _publish(client, failing["check_id"])
    assert refused.status_code == 409 and "has not passed its dry run" in refused.json()["detail"]
    assert _publish(client, 10**9).status_code == 404


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
