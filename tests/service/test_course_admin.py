"""Staff features end to end, against the real app, database and worker: roster import (API and
page), late penalties and the submission window, the submission cap, the gradebook CSV, the queue
monitor, and regrades. Each test grades a small suite of its own (``small.yaml`` published under a
fresh id), so nothing here depends on, or disturbs, the other tests' assignments."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select

from grader_api.db import utcnow
from grader_api.models import ApiToken, Assignment, AuditLog, Course, Enrollment, GradingRun, Submission, User
from grader_api.security import hash_password, new_api_token
from grader_api.services.assignments import create_assignment
from grader_api.services.suites import publish
from grader_core.suite import parse_suite
from worker.grading import execute_run

from .conftest import PASSWORD, csrf_of, login, make_student, wait_finished

SMALL = Path(__file__).with_name("small.yaml")
SETTINGS = ("title", "due_at", "late_penalty_per_day", "late_days_allowed", "max_submissions", "grade_policy",
            "results_published")


# --- helpers -------------------------------------------------------------------------------------

def _new_assignment(rt, course_id: int, prefix: str, gpu: bool = False) -> str:  # type: ignore[no-untyped-def]
    """``small.yaml`` published as a new assignment (due in a week); its slug. ``gpu``: its runs wait
    on the gpu queue, which no test worker consumes."""
    slug = f"{prefix}-{uuid.uuid4().hex[:6]}"
    text = SMALL.read_text().replace("\nid: small\n", f"\nid: {slug}\n")
    if gpu:
        text = text.replace("main: {wall_seconds", "main: {gpu: true, wall_seconds")
    loaded = parse_suite(text, SMALL)
    assert loaded.suite.id == slug and any(stage.gpu for stage in loaded.suite.stages.values()) == gpu
    with rt.db.session() as session:
        create_assignment(session, session.get_one(Course, course_id), loaded, utcnow() + timedelta(days=7), rt.settings, None)
        session.commit()
    return slug


def _publish_b_is_zero(rt, slug: str) -> None:  # type: ignore[no-untyped-def]
    """Version 2 of the suite: the expected ``b`` becomes 0, so an answer ``b: 0`` now earns its point."""
    with rt.db.session() as session:
        assignment = session.scalar(select(Assignment).where(Assignment.slug == slug))
        assert assignment is not None and assignment.current_suite is not None
        old = assignment.current_suite.yaml_text
        new = old.replace("params: {key: b, expected: 1}", "params: {key: b, expected: 0}")
        assert new != old
        publish(session, assignment, parse_suite(new, SMALL), rt.settings, None, None)
        session.commit()


def _bearer(rt, email: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with rt.db.session() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None, email
        token, digest = new_api_token()
        session.add(ApiToken(user_id=user.id, token_sha256=digest, name="test"))
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def _student(rt, course_id: int, name: str | None = None) -> tuple[User, dict[str, str]]:  # type: ignore[no-untyped-def]
    user = make_student(rt, course_id, name)
    return user, _bearer(rt, user.email)


def _answers(a: int, b: int) -> dict[str, tuple[str, bytes]]:
    return {"file": ("answers.yaml", f"a: {a}\nb: {b}\n".encode())}


def _submit(client: TestClient, slug: str, headers: dict[str, str], a: int = 3, b: int = 0) -> dict:  # type: ignore[type-arg]
    response = client.post(f"/api/v1/assignments/{slug}/submissions", files=_answers(a, b), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _settings(client: TestClient, slug: str, instructor: dict[str, str], **changes: object) -> dict:  # type: ignore[type-arg]
    """Change an assignment's settings through the API, as an instructor; the settings it reports back."""
    current = next(a for a in client.get("/api/v1/assignments", headers=instructor).json() if a["slug"] == slug)
    response = client.put(f"/api/v1/assignments/{slug}/settings", json={name: current[name] for name in SETTINGS} | changes,
                          headers=instructor)
    assert response.status_code == 200, response.text
    return response.json()


def _submission(client: TestClient, submission_id: int, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    response = client.get(f"/api/v1/submissions/{submission_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _uploads(rt) -> set[Path]:  # type: ignore[no-untyped-def]
    return {path for path in rt.settings.upload_dir.rglob("*") if path.is_file()}


def _submissions_of(rt, user_id: int) -> int:  # type: ignore[no-untyped-def]
    with rt.db.session() as session:
        return session.scalar(select(func.count()).select_from(Submission).where(Submission.user_id == user_id)) or 0


@pytest.fixture(scope="module")
def instructor(rt, course) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return _bearer(rt, "instructor@test")


@pytest.fixture(scope="module")
def ta(rt, course) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return _bearer(rt, "ta@test")


@pytest.fixture(scope="module")
def browser(client: TestClient) -> Iterator[TestClient]:
    """A cookie jar of its own on the same app, for the pages."""
    with TestClient(client.app) as other:
        yield other


# --- roster --------------------------------------------------------------------------------------

def test_the_roster_api_creates_enrolls_and_reports_bad_rows(rt, course, client, browser, instructor):  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    enrolled = make_student(rt, course["course"], f"enrolled-{tag}", password=True)
    with rt.db.session() as session:  # an account of the service, not yet in this course
        outside = User(email=f"outside-{tag}@test", name="Outside", role="student", password_hash=hash_password(PASSWORD))
        session.add(outside)
        session.commit()
    ada, tim, pat = f"ada-{tag}@test", f"tim-{tag}@test", f"pat-{tag}@test"
    csv_text = "\n".join([
        "Email, Name ,Role,Password",
        f"{ada},Ada Lovelace,student,",
        f"TIM-{tag}@Test,Tim Assistant,ta,",  # addresses are kept lower-case
        f"{pat},Pat Password,,horse battery {tag}",  # no role: a student
        f"{enrolled.email},Renamed,ta,stolen {tag}",  # already enrolled: left as it is
        f"{outside.email},Someone Else,student,",  # an existing account: enrolled, not created
        "",  # errors name the file's line, blank ones counted
        "not-an-email,Bad Email,student,",
        f"rex-{tag}@test,Rex,professor,",
        f"{ada},Ada Again,student,",  # the same person twice: one account, one enrollment
    ])
    response = client.post(f"/api/v1/courses/{course['course']}/roster", data={"csv_text": csv_text}, headers=instructor)
    assert response.status_code == 200, response.text
    outcome = response.json()
    created = dict(outcome["created"])
    assert list(created) == [ada, tim, pat]
    assert created[pat] == f"horse battery {tag}"
    assert len({created[ada], created[tim]}) == 2 and all(len(created[e]) >= 10 for e in (ada, tim))
    assert outcome["enrolled"] == 4  # ada, tim, pat and the outside account
    assert len(outcome["errors"]) == 2, outcome["errors"]
    bad_email, bad_role = outcome["errors"]
    assert bad_email == "line 8: 'not-an-email' is not an email address"
    assert bad_role.startswith("line 9: ") and "'professor'" in bad_role and "student, ta, instructor" in bad_role

    emails = [ada, tim, pat, enrolled.email, outside.email, f"rex-{tag}@test", "not-an-email"]
    with rt.db.session() as session:
        users = {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}
        assert {e: (users[e].role, users[e].name) for e in (ada, tim, pat)} == {
            ada: ("student", "Ada Lovelace"), tim: ("ta", "Tim Assistant"), pat: ("student", "Pat Password")}
        assert set(users) == {ada, tim, pat, enrolled.email, outside.email}  # nothing from the refused rows
        assert (users[enrolled.email].role, users[enrolled.email].name) == ("student", enrolled.name)
        rows = session.scalars(select(Enrollment.user_id).where(Enrollment.course_id == course["course"],
                                                                Enrollment.user_id.in_([u.id for u in users.values()]))).all()
        assert sorted(rows) == sorted(u.id for u in users.values())  # each enrolled exactly once
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "roster.import").order_by(AuditLog.id.desc())).first()
        assert audit is not None and audit.target == f"course:{course['course']}"
        assert audit.details == {"created": [ada, tim, pat], "enrolled": 4, "errors": 2}
        assert session.get_one(User, audit.actor_id).email == "instructor@test"

    # The accounts work with their passwords; the existing one's password was not replaced.
    for email, password in ((ada, created[ada]), (pat, created[pat]), (enrolled.email, PASSWORD)):
        assert client.post("/api/v1/tokens", json={"email": email, "password": password}).status_code == 200, email
    assert client.post("/api/v1/tokens", json={"email": enrolled.email, "password": f"stolen {tag}"}).status_code == 401
    login(browser, pat, f"horse battery {tag}")  # through the sign-in page, as the student would
    assert browser.get("/api/v1/me").json() == {"id": users[pat].id, "email": pat, "name": "Pat Password", "role": "student"}
    assert browser.get("/assignments").status_code == 200

    again = client.post(f"/api/v1/courses/{course['course']}/roster", data={"csv_text": csv_text}, headers=instructor).json()
    assert (again["created"], again["enrolled"], again["errors"]) == ([], 0, outcome["errors"])
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.email.in_(emails))) == 5
        assert session.scalar(select(func.count()).select_from(Enrollment).where(
            Enrollment.user_id.in_([u.id for u in users.values()]))) == 5

    missing = client.post(f"/api/v1/courses/{course['course']}/roster", data={"csv_text": "mail,who\nx@y.z,X"}, headers=instructor)
    assert missing.json() == {"created": [], "enrolled": 0,
                              "errors": ["line 1: the header must name at least the columns email and name"]}


def test_the_roster_page_imports_a_spreadsheet_export(rt, course, browser):  # type: ignore[no-untyped-def]
    """Excel writes a byte-order mark; the page shows the one-time passwords, which then work."""
    tag = uuid.uuid4().hex[:6]
    new, helper = f"new-{tag}@test", f"helper-{tag}@test"
    data = f"\ufeffemail,name,role\r\n{new},New Student,student\r\n{helper},Helper,TA\r\nbroken,,student\r\n".encode()
    login(browser, "instructor@test")
    page = browser.post("/instructor/roster", files={"file": ("roster.csv", data, "text/csv")},
                        data={"csrf_token": csrf_of(browser, "/instructor/roster")})
    assert page.status_code == 200, page.text
    assert "2 enrolled, 2 accounts created." in page.text
    assert '<p class="error">%s</p>' % escape("line 4: 'broken' is not an email address") in page.text
    passwords = {email: page.text.split(f"<td>{email}</td><td><code>")[1].split("</code>")[0] for email in (new, helper)}
    with rt.db.session() as session:
        users = {u.email: u for u in session.scalars(select(User).where(User.email.in_([new, helper])))}
        assert {e: (u.role, u.name) for e, u in users.items()} == {new: ("student", "New Student"), helper: ("ta", "Helper")}
        first_course = session.scalars(select(Course.id).order_by(Course.id)).first()
        assert first_course == course["course"]  # the pages serve the first course
        assert set(session.scalars(select(Enrollment.user_id).where(Enrollment.course_id == first_course))) >= {
            u.id for u in users.values()}
    login(browser, new, passwords[new])
    assert browser.get("/api/v1/me").json()["email"] == new
    login(browser, helper, passwords[helper])
    assert browser.get("/staff/dashboard").status_code == 200  # imported as a TA


# --- late submissions and the submission cap -----------------------------------------------------

def test_late_submissions_pay_the_penalty_and_close_after_the_allowed_days(rt, course, worker, client, instructor, ta):  # type: ignore[no-untyped-def]
    slug = _new_assignment(rt, course["course"], "late")
    due = utcnow() - timedelta(days=1, hours=12)  # two days late, counting a started day
    changed = _settings(client, slug, instructor, due_at=due.isoformat(), late_penalty_per_day=0.15, late_days_allowed=2)
    assert (changed["late_penalty_per_day"], changed["late_days_allowed"]) == (0.15, 2)

    first, first_headers = _student(rt, course["course"])
    sent = _submit(client, slug, first_headers, a=3, b=0)  # 3 of the 4 automatic points
    assert (sent["late_days"], sent["late_penalty"]) == (2, pytest.approx(0.3))
    capped, capped_headers = _student(rt, course["course"])
    _settings(client, slug, instructor, late_penalty_per_day=0.6)  # 2 x 0.6 is more than everything
    capped_sent = _submit(client, slug, capped_headers, a=3, b=1)
    assert (capped_sent["late_days"], capped_sent["late_penalty"]) == (2, 1.0)
    wait_finished(rt, [sent["run"]["id"], capped_sent["run"]["id"]])

    graded = _submission(client, sent["id"], first_headers)
    assert graded["status"] == "graded"
    assert (graded["score"], graded["manual_score"], graded["late_penalty"]) == (3, 0, pytest.approx(0.3))
    assert graded["final_score"] == pytest.approx(3 * 0.7)
    manual = client.post(f"/api/v1/submissions/{sent['id']}/manual-grades/proof", json={"items": {"argument": 2}}, headers=ta)
    assert manual.status_code == 200, manual.text
    assert _submission(client, sent["id"], first_headers)["final_score"] == pytest.approx((3 + 2) * 0.7)
    capped_graded = _submission(client, capped_sent["id"], capped_headers)
    assert (capped_graded["score"], capped_graded["final_score"]) == (4, 0)

    _settings(client, slug, instructor, late_days_allowed=1)  # two days late is now past the window
    uploads = _uploads(rt)
    refused = client.post(f"/api/v1/assignments/{slug}/submissions", files=_answers(3, 1), headers=first_headers)
    assert refused.status_code == 403 and "closed" in refused.json()["detail"]
    assert _submissions_of(rt, first.id) == 1 and _uploads(rt) == uploads
    _settings(client, slug, instructor, due_at=(utcnow() + timedelta(hours=1)).isoformat())  # on time again: accepted
    on_time = _submit(client, slug, first_headers, a=3, b=1)
    assert (on_time["late_days"], on_time["late_penalty"], on_time["number"]) == (0, 0, 2)
    wait_finished(rt, [on_time["run"]["id"]])
    assert _submission(client, on_time["id"], first_headers)["final_score"] == 4


def test_the_submission_cap_refuses_one_more(rt, course, worker, client, instructor):  # type: ignore[no-untyped-def]
    slug = _new_assignment(rt, course["course"], "cap")
    assert _settings(client, slug, instructor, max_submissions=2)["max_submissions"] == 2
    student, headers = _student(rt, course["course"])
    sent = [_submit(client, slug, headers) for _ in range(2)]
    assert [(s["number"], s["run"]["kind"]) for s in sent] == [(1, "first"), (2, "resubmission")]
    uploads = _uploads(rt)
    refused = client.post(f"/api/v1/assignments/{slug}/submissions", files=_answers(3, 1), headers=headers)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "you have used all 2 submissions for this assignment"
    assert _submissions_of(rt, student.id) == 2 and _uploads(rt) == uploads
    mine = next(a for a in client.get("/api/v1/assignments", headers=headers).json() if a["slug"] == slug)
    assert (mine["submissions_used"], mine["max_submissions"]) == (2, 2)
    wait_finished(rt, [s["run"]["id"] for s in sent])  # nothing left in flight for the next tests


# --- the gradebook export ------------------------------------------------------------------------

def _csv(text: str) -> tuple[list[str], dict[str, list[str]]]:
    header, *rows = list(csv.reader(io.StringIO(text)))
    return header, {row[0]: row for row in rows}


def test_the_gradebook_csv_has_every_assignment_and_no_formulas(rt, course, worker, client, browser, instructor, ta):  # type: ignore[no-untyped-def]
    slug = _new_assignment(rt, course["course"], "book")
    _settings(client, slug, instructor, due_at=(utcnow() - timedelta(days=1, hours=12)).isoformat(),
              late_penalty_per_day=0.25, late_days_allowed=3)  # two days late: half off
    grace, headers = _student(rt, course["course"], f"grace-{uuid.uuid4().hex[:6]}")
    runs = [_submit(client, slug, headers, a=3, b=1)["run"]["id"]]  # 4 points, 2 after the penalty
    runs.append(_submit(client, slug, headers, a=3, b=0)["run"]["id"])  # then 3, 1.5 after the penalty
    tag = uuid.uuid4().hex[:6]
    formula = f'=HYPERLINK("http://evil.test/{tag}","click me")'
    with rt.db.session() as session:
        mallory = User(email=f"-mallory-{tag}@test", name=formula, role="student")
        session.add(mallory)
        session.flush()
        session.add(Enrollment(course_id=course["course"], user_id=mallory.id))
        session.commit()
    wait_finished(rt, runs)

    text = client.get(f"/api/v1/gradebook.csv?course_id={course['course']}", headers=ta).text
    header, rows = _csv(text)
    slugs = [a["slug"] for a in client.get("/api/v1/assignments", headers=ta).json()]
    assert slug in slugs and "hw1" in slugs
    assert header == ["email", "name", *slugs, *(f"{s}_late_days" for s in slugs), "total"]
    column = header.index(slug)
    row = rows[grace.email]
    assert row[1] == grace.name
    assert (row[column], row[column + len(slugs)], row[-1]) == ("2", "2", "2")  # the best of the two, late penalty applied
    assert all(row[2 + i] == "" for i, s in enumerate(slugs) if s != slug)
    evil = rows["'" + mallory.email]
    assert evil[1] == "'" + formula and evil[2:2 + len(slugs)] == [""] * len(slugs) and evil[-1] == "0"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows.values() for cell in r)

    login(browser, "ta@test")
    page = browser.get("/staff/gradebook.csv")
    assert page.status_code == 200 and page.headers["content-disposition"] == 'attachment; filename="gradebook.csv"'
    assert page.headers["content-type"].startswith("text/csv") and page.text == text

    _settings(client, slug, instructor, grade_policy="latest")
    _, rows = _csv(client.get(f"/api/v1/gradebook.csv?course_id={course['course']}", headers=ta).text)
    assert (rows[grace.email][column], rows[grace.email][-1]) == ("1.5", "1.5")


# --- the queue monitor ---------------------------------------------------------------------------

def test_the_queue_monitor_shows_depth_timings_and_failures(rt, course, worker, client, ta):  # type: ignore[no-untyped-def]
    cpu_slug = _new_assignment(rt, course["course"], "mon")
    _, headers = _student(rt, course["course"])
    graded = wait_finished(rt, [_submit(client, cpu_slug, headers)["run"]["id"]])
    graded_run = next(iter(graded.values()))
    assert graded_run.status == "graded"

    gpu_slug = _new_assignment(rt, course["course"], "mon-gpu", gpu=True)
    before = client.get("/api/v1/queue", headers=ta).json()
    waiting = [_submit(client, gpu_slug, _student(rt, course["course"])[1])["run"] for _ in range(2)]
    assert [run["queue"] for run in waiting] == ["gpu", "gpu"]
    assert waiting[1]["position"] == waiting[0]["position"] + 1
    state = client.get("/api/v1/queue", headers=ta).json()
    assert state["depth"]["gpu"] == before["depth"]["gpu"] + 2

    with rt.db.session() as session:
        durations = [(done - start).total_seconds() for start, done in session.execute(
            select(GradingRun.started_at, GradingRun.finished_at).where(GradingRun.status == "graded"))]
    percentiles = state["percentiles_s"]
    assert set(percentiles) == {"p50", "p90", "p99"}
    assert percentiles["p50"] > 0
    assert min(durations) <= percentiles["p50"] <= percentiles["p90"] <= percentiles["p99"] <= max(durations)
    worker_line = next(w for w in state["workers"] if w["name"] == graded_run.worker)
    assert worker_line["graded_last_hour"] >= 1

    # A run whose grading died every time is given up on: it leaves the queue and shows as a failure.
    for number, run in enumerate(waiting, start=1):
        with rt.db.session() as session:
            row = session.get_one(GradingRun, run["id"])
            row.attempts = rt.settings.max_grading_attempts
            task_id = row.task_id
            session.commit()
        assert execute_run(rt, run["id"], task_id, "test") == "skipped"
        state = client.get("/api/v1/queue", headers=ta).json()
        assert state["depth"]["gpu"] == before["depth"]["gpu"] + 2 - number
        failure = next(f for f in state["failures"] if f["id"] == run["id"])
        assert failure["status"] == "failed" and failure["error"].startswith("gave up after")
        assert failure["finished_at"] is not None


# --- regrades ------------------------------------------------------------------------------------

def _regrade_runs(rt, run_ids: list[int]) -> dict[int, GradingRun]:  # type: ignore[no-untyped-def]
    with rt.db.session() as session:
        runs = session.scalars(select(GradingRun).where(GradingRun.id.in_(run_ids))).all()
        for run in runs:
            run.suite_version.number  # noqa: B018 - loaded while the session is open
        return {run.submission_id: run for run in runs}


def test_regrades_grade_exactly_the_chosen_submissions_again(rt, course, worker, client, ta):  # type: ignore[no-untyped-def]
    slug = _new_assignment(rt, course["course"], "regrade")
    other_slug = _new_assignment(rt, course["course"], "regrade-other")
    first, first_headers = _student(rt, course["course"])
    second, second_headers = _student(rt, course["course"])
    firsts = [_submit(client, slug, first_headers), _submit(client, slug, first_headers)]
    seconds = _submit(client, slug, second_headers)
    elsewhere = _submit(client, other_slug, second_headers)
    originals = [s["run"]["id"] for s in (*firsts, seconds, elsewhere)]
    wait_finished(rt, originals)
    assert _submission(client, seconds["id"], second_headers)["final_score"] == 3  # b: 0 is wrong in version 1
    _publish_b_is_zero(rt, slug)
    with rt.db.session() as session:
        ta_id = session.scalar(select(User.id).where(User.email == "ta@test"))
        audits_before = session.scalar(select(func.max(AuditLog.id))) or 0

    one = client.post(f"/api/v1/submissions/{seconds['id']}/regrade", headers=ta).json()["run_ids"]
    of_student = client.post(f"/api/v1/assignments/{slug}/regrade?student_id={first.id}", headers=ta).json()["run_ids"]
    everything = client.post(f"/api/v1/assignments/{slug}/regrade", headers=ta).json()["run_ids"]
    first_ids = {s["id"] for s in firsts}
    expected = [({seconds["id"]}, one), (first_ids, of_student), (first_ids | {seconds["id"]}, everything)]
    for submission_ids, run_ids in expected:
        runs = _regrade_runs(rt, run_ids)
        assert set(runs) == submission_ids and len(run_ids) == len(submission_ids)
        assert all((r.kind, r.requested_by_id, r.suite_version.number) == ("regrade", ta_id, 2) for r in runs.values())
    finished = wait_finished(rt, one + of_student + everything)
    assert {(r.status, r.score) for r in finished.values()} == {("graded", 4)}

    with rt.db.session() as session:
        audits = session.scalars(select(AuditLog).where(AuditLog.id > audits_before, AuditLog.action == "regrade")
                                 .order_by(AuditLog.id)).all()
        assert [(a.actor_id, sorted(a.details["submission_ids"])) for a in audits] == [
            (ta_id, sorted(ids)) for ids, _ in expected]
        untouched = session.scalars(select(GradingRun).where(GradingRun.submission_id == elsewhere["id"])).all()
        assert [r.kind for r in untouched] == ["first"]  # another assignment's submission
        history = session.scalars(select(GradingRun.score).where(GradingRun.submission_id == seconds["id"])
                                  .order_by(GradingRun.id)).all()
        assert history == [3, 4, 4]  # the first grading is kept

    for submission, headers in ((seconds, second_headers), *((s, first_headers) for s in firsts)):
        now = _submission(client, submission["id"], headers)  # what the student sees follows the latest run
        assert (now["status"], now["score"], now["final_score"], now["run"]["kind"]) == ("graded", 4, 4, "regrade")
    book = client.get(f"/api/v1/courses/{course['course']}/gradebook", headers=ta).json()
    cells = {row["student"]["id"]: next(c for c in row["cells"] if c["assignment"] == slug) for row in book["rows"]}
    assert (cells[first.id]["score"], cells[second.id]["score"], cells[first.id]["submissions"]) == (4, 4, 2)


def test_a_run_finishing_after_a_newer_one_does_not_override_it(rt, course, client, ta):  # type: ignore[no-untyped-def]
    """The submission's grade follows its latest run, whatever order the runs finish in: a first run
    lost with its worker is published again by the reconciler and may finish after a regrade."""
    slug = _new_assignment(rt, course["course"], "order", gpu=True)  # graded here, in order, not by a worker
    student, headers = _student(rt, course["course"])
    sent = _submit(client, slug, headers, a=3, b=0)
    _publish_b_is_zero(rt, slug)
    (regrade_id,) = client.post(f"/api/v1/submissions/{sent['id']}/regrade", headers=ta).json()["run_ids"]
    with rt.db.session() as session:
        tasks = {run.id: run.task_id for run in session.scalars(select(GradingRun).where(GradingRun.submission_id == sent["id"]))}
    assert execute_run(rt, regrade_id, tasks[regrade_id], "test") == "graded"  # version 2: 4 points
    assert execute_run(rt, sent["run"]["id"], tasks[sent["run"]["id"]], "test") == "graded"  # version 1, late: 3 points
    runs = wait_finished(rt, list(tasks))
    assert (runs[sent["run"]["id"]].score, runs[regrade_id].score) == (3, 4)

    seen = _submission(client, sent["id"], headers)
    assert (seen["status"], seen["score"], seen["final_score"], seen["run"]["id"]) == ("graded", 4, 4, regrade_id)
    with rt.db.session() as session:
        submission = session.get_one(Submission, sent["id"])
        assert (submission.status, submission.auto_score) == ("graded", 4)
    book = client.get(f"/api/v1/courses/{course['course']}/gradebook", headers=ta).json()
    row = next(r for r in book["rows"] if r["student"]["id"] == student.id)
    assert next(c for c in row["cells"] if c["assignment"] == slug)["score"] == 4
