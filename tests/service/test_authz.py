"""Authorization against the real app, database and worker: ownership, roles, CSRF on every form,
hidden tests' details kept from students until their release (JSON API and pages alike), and the
Alembic migration matching the models on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import delete, func, select

from grader_api.db import Database, utcnow
from grader_api.migrate import upgrade
from grader_api.models import AuditLog, Base, Enrollment, GradingRun, Submission, TestResultRow
from grader_api.services.suites import SUITES_DIR
from grader_core.suite import load_suite

from .conftest import PASSWORD, REFERENCE_HW1, csrf_of, login, make_student, wait_finished

HW1 = load_suite(SUITES_DIR / "hw1.yaml").suite
ALWAYS_HIDDEN = [t for t in HW1.tests if t.visibility.value == "hidden"]
AFTER_PUBLISHED = [t for t in HW1.tests if t.visibility.value == "after_published"]
AFTER_DUE = [t for t in HW1.tests if t.visibility.value == "after_due_date"]
VISIBLE = [t for t in HW1.tests if t.visibility.value == "visible"]


@pytest.fixture(scope="module")
def browser(client: TestClient) -> Iterator[TestClient]:
    """A second cookie jar on the same app (the other student, the TA...)."""
    with TestClient(client.app) as other:
        yield other


@pytest.fixture(scope="module")
def graded(rt, course, worker, client: TestClient) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A student's HW1 submission, sent through the page's form and graded by the worker."""
    owner = make_student(rt, course["course"], password=True)
    login(client, owner.email)
    answers = _form_answers(yaml.safe_load(REFERENCE_HW1.read_text()))
    response = client.post("/assignments/hw1/answers", data=answers | {"csrf_token": csrf_of(client, "/assignments/hw1")},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    submission_id = int(response.headers["location"].rsplit("/", 1)[1])
    with rt.db.session() as session:
        run_id = session.scalar(select(GradingRun.id).where(GradingRun.submission_id == submission_id))
    assert wait_finished(rt, [run_id])[run_id].status == "graded"
    return {"owner": owner, "submission_id": submission_id, "run_id": run_id}


def _form_answers(tree: dict[str, Any]) -> dict[str, str]:
    """The answer form's fields (one per answer key) filled from an answers file."""
    fields = {}
    for spec in HW1.submission.answers:
        node: Any = tree
        for part in spec.key.split("."):
            node = node[part]
        fields[spec.key] = yaml.safe_dump(node, default_flow_style=True).strip() if isinstance(node, dict) else str(node)
    return fields


def test_the_fixture_submission_earns_full_marks(graded, rt):  # type: ignore[no-untyped-def]
    """Guards the tests below: a submission that failed to parse would show no tests at all."""
    with rt.db.session() as session:
        run = session.get_one(GradingRun, graded["run_id"])
        assert run.score == run.automatic_max_score > 0 and len(run.tests) == len(HW1.tests)


def test_a_student_sees_and_submits_only_to_their_own_courses(rt, course, browser):  # type: ignore[no-untyped-def]
    outsider = make_student(rt, course["course"], password=True)
    with rt.db.session() as session:
        session.execute(delete(Enrollment).where(Enrollment.user_id == outsider.id))
        session.commit()
    login(browser, outsider.email)
    assert browser.get("/api/v1/assignments").json() == []
    assert "hw1" not in browser.get("/assignments").text
    assert browser.get("/assignments/hw1").status_code == 404
    csrf = csrf_of(browser, "/assignments")
    upload = browser.post("/api/v1/assignments/hw1/submissions", files={"file": ("answers.yaml", REFERENCE_HW1.read_bytes())},
                          headers={"X-CSRF-Token": csrf})
    assert upload.status_code == 404
    assert _submissions_of(rt, outsider.id) == 0
    login(browser, make_student(rt, course["course"], password=True).email)  # enrolled: the same calls go through
    assert [a["slug"] for a in browser.get("/api/v1/assignments").json()].count("hw1") == 1
    assert browser.get("/assignments/hw1").status_code == 200


def test_a_student_cannot_reach_another_students_submission(graded, rt, course, browser):  # type: ignore[no-untyped-def]
    other = make_student(rt, course["course"], password=True)
    login(browser, other.email)
    sid = graded["submission_id"]
    assert browser.get(f"/api/v1/submissions/{sid}").status_code == 404
    assert browser.get(f"/submissions/{sid}").status_code == 404
    assert sid not in [s["id"] for s in browser.get("/api/v1/submissions").json()]
    assert browser.get(f"/staff/submissions/{sid}").status_code == 403
    login(browser, graded["owner"].email)  # the owner can: the refusals above are about ownership
    assert browser.get(f"/api/v1/submissions/{sid}").status_code == 200
    assert browser.get(f"/submissions/{sid}").status_code == 200


STAFF_PAGES = ["/staff/dashboard", "/staff/queue", "/staff/gradebook.csv", "/staff/assignments/hw1"]
INSTRUCTOR_PAGES = ["/instructor/suites", "/instructor/roster", "/instructor/assignments/hw1/settings"]
ROLE_REFUSAL = "you do not have access to this page"  # a 403 for the role, not for a missing CSRF token


def test_roles_guard_every_staff_page_and_endpoint(graded, rt, course, browser):  # type: ignore[no-untyped-def]
    sid = graded["submission_id"]
    runs_before = _count(rt, GradingRun)
    login(browser, graded["owner"].email)
    csrf = csrf_of(browser, "/assignments")
    for path in [*STAFF_PAGES, f"/staff/submissions/{sid}", *INSTRUCTOR_PAGES, "/api/v1/queue",
                 f"/api/v1/gradebook.csv?course_id={course['course']}"]:
        refused = browser.get(path)
        assert refused.status_code == 403 and ROLE_REFUSAL in refused.text, path
    unsafe = [("post", f"/api/v1/submissions/{sid}/regrade", {}), ("post", "/api/v1/assignments/hw1/regrade", {}),
              ("post", f"/staff/submissions/{sid}/regrade", {}), ("post", "/staff/assignments/hw1/regrade", {}),
              ("post", "/api/v1/suites/check", {"yaml_text": "id: x"}),
              ("post", f"/api/v1/courses/{course['course']}/roster", {"csv_text": "email,name\nx@y,X"}),
              ("post", "/instructor/assignments/hw1/settings", {"title": "pwned"})]
    for method, path, data in unsafe:
        response = getattr(browser, method)(path, data=data | {"csrf_token": csrf}, follow_redirects=False)
        assert response.status_code == 403 and ROLE_REFUSAL in response.text, (path, response.status_code)  # not CSRF
    assert _count(rt, GradingRun) == runs_before
    login(browser, "ta@test")  # a TA: staff pages yes, instructor pages no
    for path in [*STAFF_PAGES, f"/staff/submissions/{sid}", "/api/v1/queue"]:
        assert browser.get(path).status_code == 200, path
    for path in INSTRUCTOR_PAGES:
        refused = browser.get(path)
        assert refused.status_code == 403 and ROLE_REFUSAL in refused.text, path
    browser.cookies.clear()  # nobody: pages send to the login page, the API asks for credentials
    assert browser.get("/staff/dashboard", follow_redirects=False).headers["location"].startswith("/login")
    assert browser.get(f"/api/v1/submissions/{sid}").status_code == 401
    assert browser.get(f"/api/v1/submissions/{sid}", headers={"Authorization": "Bearer dgm_forged"}).status_code == 401


def test_forms_without_the_csrf_token_are_refused(graded, rt, course, browser):  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"], password=True)
    login(browser, student.email)
    good = csrf_of(browser, "/assignments/hw1")
    answers = {"q1.alpha": "1"}
    for extra in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
        response = browser.post("/assignments/hw1/answers", data=answers | extra, follow_redirects=False)
        assert response.status_code == 403, response.text
        upload = browser.post("/assignments/hw1/upload", data=extra, files={"file": ("answers.yaml", b"q1: {alpha: 1}")},
                              follow_redirects=False)
        assert upload.status_code == 403
        assert browser.post("/tokens", data=extra | {"name": "x"}).status_code == 403
        assert browser.post("/logout", data=extra, follow_redirects=False).status_code == 403
    assert browser.post("/assignments/hw1/answers", json=answers).status_code == 403  # no form, no header
    assert _submissions_of(rt, student.id) == 0
    assert browser.get("/assignments").status_code == 200  # still signed in: the logouts were refused
    login(browser, "ta@test")
    runs_before = _count(rt, GradingRun)
    assert browser.post(f"/staff/submissions/{graded['submission_id']}/regrade", follow_redirects=False).status_code == 403
    assert _count(rt, GradingRun) == runs_before
    browser.cookies.clear()
    browser.get("/login")
    refused = browser.post("/login", data={"email": student.email, "password": PASSWORD}, follow_redirects=False)
    assert refused.status_code == 403
    login(browser, student.email)  # the same requests with the token go through
    good = csrf_of(browser, "/assignments/hw1")
    ok = browser.post("/assignments/hw1/answers", data=answers | {"csrf_token": good}, follow_redirects=False)
    assert ok.status_code == 303
    assert browser.post("/assignments/hw1/answers", data=answers, headers={"X-CSRF-Token": good},
                        follow_redirects=False).status_code == 303
    assert _submissions_of(rt, student.id) == 2


def _ids(payload: dict[str, object]) -> set[str]:
    return {t["id"] for t in payload["tests"]}  # type: ignore[index, union-attr]


def _set_release(client: TestClient, slug: str, **changes: object) -> None:
    current = client.get("/api/v1/assignments").json()
    found = next(a for a in current if a["slug"] == slug)
    body = {name: found[name] for name in ("title", "due_at", "late_penalty_per_day", "late_days_allowed",
                                           "max_submissions", "grade_policy", "results_published")}
    response = client.put(f"/api/v1/assignments/{slug}/settings", json=body | changes,
                          headers={"X-CSRF-Token": csrf_of(client, "/assignments")})
    assert response.status_code == 200, response.text


def test_hidden_tests_never_reach_a_student_before_release(graded, rt, browser, client):  # type: ignore[no-untyped-def]
    sid = graded["submission_id"]
    login(browser, graded["owner"].email)
    login(client, "instructor@test")
    secret_words = [t.id for t in ALWAYS_HIDDEN] + [t.title for t in ALWAYS_HIDDEN]
    with rt.db.session() as session:
        rows = session.scalars(select(TestResultRow).where(TestResultRow.run_id == graded["run_id"])).all()
    shown_feedback = {row.feedback for row in rows if row.visibility != "hidden"}
    hidden_feedback = [row.feedback for row in rows if row.visibility == "hidden" and row.feedback not in shown_feedback]
    original_due = next(a for a in client.get("/api/v1/assignments").json() if a["slug"] == "hw1")["due_at"]

    def student_view() -> tuple[dict[str, object], str, str]:
        api = browser.get(f"/api/v1/submissions/{sid}")
        listed = browser.get("/api/v1/submissions")
        page = browser.get(f"/submissions/{sid}")
        assert api.status_code == listed.status_code == page.status_code == 200
        return api.json(), api.text + listed.text, page.text

    staff = client.get(f"/api/v1/submissions/{sid}").json()  # staff see everything: the checks below can fail
    assert _ids(staff) == {t.id for t in HW1.tests} and staff["logs"] is not None

    try:
        stages = [
            ({}, VISIBLE),  # before the due date, unpublished
            ({"due_at": (utcnow() - timedelta(hours=1)).isoformat()}, VISIBLE + AFTER_DUE),
            ({"due_at": (utcnow() - timedelta(hours=1)).isoformat(), "results_published": True},
             VISIBLE + AFTER_DUE + AFTER_PUBLISHED),
        ]
        for changes, expected in stages:
            _set_release(client, "hw1", **changes)
            payload, api_text, page = student_view()
            assert _ids(payload) == {t.id for t in expected}, changes
            assert payload["logs"] is None and payload["environment"] is None
            assert payload["withheld_tests"] == len(HW1.tests) - len(expected)
            withheld = [t for t in HW1.tests if t not in expected]
            for text in (api_text, page):
                for word in [t.id for t in withheld] + [t.title for t in withheld] + secret_words + hidden_feedback:
                    assert word not in text and str(escape(word)) not in text, (changes, word)
            for t in expected:
                assert str(escape(t.title)) in page
        assert payload["score"] == staff["score"]  # published: the whole score, hidden tests unseen
    finally:
        _set_release(client, "hw1", due_at=original_due, results_published=False)


def _count(rt, model: type) -> int:  # type: ignore[no-untyped-def]
    with rt.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _submissions_of(rt, user_id: int) -> int:  # type: ignore[no-untyped-def]
    with rt.db.session() as session:
        return session.scalar(select(func.count()).select_from(Submission).where(Submission.user_id == user_id)) or 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_matches_the_models(backend, rt, tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'fresh.db'}" if backend == "sqlite" else rt.settings.database_url
    upgrade(url)  # PostgreSQL: the session's database, migrated by the fixture (a no-op here)
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    finally:
        database.dispose()
    assert differences == []


def test_a_ta_grades_the_proof_with_its_rubric(graded, rt, client):  # type: ignore[no-untyped-def]
    """The manual test's points come from its rubric items, reach the final score, and are audited;
    nonsense is refused and a student cannot grade."""
    sid = graded["submission_id"]
    proof = next(t.id for t in HW1.tests if t.check == "manual")
    login(client, graded["owner"].email)
    url = f"/api/v1/submissions/{sid}/manual-grades/{proof}"
    csrf = {"X-CSRF-Token": csrf_of(client, "/assignments")}
    assert client.post(url, json={"items": {"marginal": 2}}, headers=csrf).status_code == 403
    login(client, "ta@test")
    csrf = {"X-CSRF-Token": csrf_of(client, "/assignments")}
    before = client.get(f"/api/v1/submissions/{sid}").json()
    for items, status in (({"marginal": 3}, 422), ({"cheating": 1}, 422), ({"marginal": 2}, 200)):
        response = client.post(url, json={"items": items, "comment": "see the margin"}, headers=csrf)
        assert response.status_code == status, (items, response.text)
    assert client.post(f"/api/v1/submissions/{sid}/manual-grades/q1-alpha", json={"items": {}}, headers=csrf).status_code == 404
    graded_once = client.post(url, json={"items": {"marginal": 2, "factorizes": 2}, "comment": "see the margin"},
                              headers=csrf).json()
    assert graded_once["manual_score"] == 4 == before["manual_score"] + 4
    assert graded_once["final_score"] == pytest.approx(before["final_score"] + 4)
    assert [(g["test_id"], g["score"], g["comment"]) for g in graded_once["manual_grades"]] == [(proof, 4, "see the margin")]
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "manual_grade")) >= 2
