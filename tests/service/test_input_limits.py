"""Hostile input gets a 4xx with a short message and costs nothing, never a 5xx: answers and suites
bounded in size and nesting with YAML aliases refused, ids past PostgreSQL's integer, NUL characters,
over-long roster cells and malformed staff forms; and every JSON error has the one shape the OpenAPI
schema declares, the same 404 whoever's artifact it is."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from grader_api.models import Artifact, GradingRun, Submission, User
from grader_api.services.suites import SUITES_DIR

from .conftest import PASSWORD, REFERENCE_HW1, csrf_of, login, make_student

BIG_IDS = [2**31, 10**30]
MAX_MESSAGE = 600  # what the tests accept as "a few hundred characters"

# A few hundred bytes that PyYAML expands to 9^7 (4.8 million) strings, each anchor aliasing the one
# above nine times, used where validation quoted the value it refused: a 33 MB error message (one more
# level: the issue's 312 MB).
ALIAS_BOMB = "# a harmless-looking comment\nlol:\n" + "".join(
    f"  {name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip([None, *"abcdef"], "abcdefg", strict=True)
) + "id: hw9\ntitle: Bomb\nversion: '1'\nsubmission: {answers_file: answers.yaml}\n" \
    "tests:\n  - {id: t1, title: T, check: manual, points: 1, visibility: *g}\n"


@pytest.fixture(scope="module")
def api(client: TestClient) -> TestClient:
    """The app with no cookie: these requests carry an API token."""
    with TestClient(client.app) as fresh:
        yield fresh


def _bearer(api: TestClient, email: str) -> dict[str, str]:
    response = api.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture(scope="module")
def instructor(api: TestClient, course) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return _bearer(api, "instructor@test")


def _new_student(rt, course, api: TestClient) -> tuple[User, dict[str, str]]:  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"], password=True)
    return student, _bearer(api, student.email)


def _submissions_of(rt, user: User) -> int:  # type: ignore[no-untyped-def]
    with rt.db.session() as session:
        return session.scalar(select(func.count()).select_from(Submission).where(Submission.user_id == user.id)) or 0


def _assert_error(response: Any, *statuses: int) -> dict[str, Any]:
    """The one error shape of the JSON API, with a message of a few hundred characters at most."""
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"detail", "errors"} and isinstance(body["detail"], str) and isinstance(body["errors"], list), body
    assert len(response.text) < 5000 and len(body["detail"]) < MAX_MESSAGE, body["detail"][:1000]
    return body


# --- answers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("answer", "status", "reason"), [
    ("[" * 20000, 413, "longer than"),
    ("{a: " * 3000, 413, "longer than"),
    ("a" * 11_000_000, 413, "longer than"),
    ("[" * 5000, 422, "nested"),
    ("- " * 2000 + "x", 422, "nested"),
    ("{a: &row [1, 2], b: *row}", 422, "aliases"),
], ids=["brackets-20000", "flow-maps-3000", "11MB", "brackets-5000", "block-sequences-2000", "alias"])
def test_a_huge_deep_or_aliased_table_answer_is_refused_at_once_and_costs_nothing(
        answer: str, status: int, reason: str, rt, course, api: TestClient) -> None:  # type: ignore[no-untyped-def]
    student, token = _new_student(rt, course, api)
    started = time.monotonic()
    response = api.post("/api/v1/assignments/hw1/answers", json={"q3.f_m": answer}, headers=token)
    assert time.monotonic() - started < 5
    detail = _assert_error(response, status)["detail"]
    assert "q3.f_m" in detail and reason in detail, detail
    assert _submissions_of(rt, student) == 0


def test_the_answer_form_refuses_a_deep_table_with_its_reason(rt, course, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"], password=True)
    login(client, student.email)
    response = client.post("/assignments/hw1/answers",
                           data={"q3.f_m": "[" * 5000, "csrf_token": csrf_of(client, "/assignments/hw1")})
    assert response.status_code == 422 and "nested" in response.text
    assert _submissions_of(rt, student) == 0


def test_an_ordinary_table_answer_still_reaches_the_answers_file(rt, course, api: TestClient) -> None:  # type: ignore[no-untyped-def]
    student, token = _new_student(rt, course, api)
    response = api.post("/api/v1/assignments/hw1/answers", json={"q3.f_m": "{-1: 0.10, 0: 0.13, 1: 0.77}"}, headers=token)
    assert response.status_code == 201, response.text
    with rt.db.session() as session:
        stored = session.scalars(select(Submission.stored_path).where(Submission.user_id == student.id)).one()
    assert yaml.safe_load(open(stored, encoding="utf-8")) == {"q3": {"f_m": {-1: 0.10, 0: 0.13, 1: 0.77}}}


# --- suites -----------------------------------------------------------------------------------------

def test_a_yaml_alias_bomb_in_a_suite_is_refused_at_its_line_before_it_expands(api: TestClient, instructor) -> None:  # type: ignore[no-untyped-def]
    assert len(ALIAS_BOMB) < 600
    started = time.monotonic()
    response = api.post("/api/v1/suites/check", data={"yaml_text": ALIAS_BOMB}, headers=instructor)
    assert time.monotonic() - started < 5 and response.status_code == 200 and len(response.content) < 1000, response.text[:1000]
    assert response.json()["valid"] is False
    assert [(issue["line"], "aliases" in issue["message"]) for issue in response.json()["issues"]] == [(3, True)]


@pytest.mark.parametrize(("text", "reason"), [
    ("tests:\n" + "  - " * 2000 + "x\n", "nested"),
    ("id: hw9\nversion: " + "1" * 5000 + "\n", "4300 digits"),
    ("id: hw9\ntitle: " + "[" * 3000 + "\n", "nested"),
], ids=["block-sequences-2000", "5000-digit-integer", "brackets-3000"])
def test_a_suite_too_deep_or_unconvertible_is_an_issue_not_a_500(
        text: str, reason: str, api: TestClient, instructor) -> None:  # type: ignore[no-untyped-def]
    response = api.post("/api/v1/suites/check", data={"yaml_text": text}, headers=instructor)
    assert response.status_code == 200, response.text[:1000]
    issues = response.json()["issues"]
    assert response.json()["valid"] is False and any(reason in issue["message"] for issue in issues), issues


def test_a_suite_file_over_the_size_limit_is_refused_whole_not_cut_and_misread(client: TestClient) -> None:
    login(client, "instructor@test")
    text = "id: hw9\n# " + "x" * (1024 * 1024) + "\n"
    response = client.post("/instructor/suites/check", files={"file": ("suite.yaml", text.encode())},
                           data={"csrf_token": csrf_of(client, "/instructor/suites")})
    assert response.status_code == 422 and "larger than 1024 KiB" in response.text


def test_suite_errors_quote_a_few_hundred_characters_of_the_suite_at_most(api: TestClient, instructor) -> None:  # type: ignore[no-untyped-def]
    suite = yaml.safe_load((SUITES_DIR / "hw1.yaml").read_text())
    suite["tests"] = [copy.deepcopy(test) | {"visibility": "v" * 600} for _ in range(5) for test in suite["tests"]]  # no aliases
    response = api.post("/api/v1/suites/check", data={"yaml_text": yaml.safe_dump(suite)}, headers=instructor)
    issues = response.json()["issues"]
    assert response.status_code == 200 and response.json()["valid"] is False
    assert 1 < len(issues) <= 101 and "more problems" in issues[-1]["message"], len(issues)
    assert max(len(issue["message"]) for issue in issues) <= 500
    assert len(response.content) < 100_000


# --- ids --------------------------------------------------------------------------------------------

API_ROUTES_WITH_IDS = [
    ("GET", "/api/v1/submissions/{id}", {}),
    ("GET", "/api/v1/artifacts/{id}", {}),
    ("GET", "/api/v1/gradebook.csv?course_id={id}", {}),
    ("GET", "/api/v1/courses/{id}/gradebook", {}),
    ("POST", "/api/v1/submissions/{id}/regrade", {}),
    ("POST", "/api/v1/assignments/hw1/regrade?student_id={id}", {}),
    ("POST", "/api/v1/submissions/{id}/manual-grades/q4-proof", {"json": {"items": {}}}),
    ("GET", "/api/v1/suites/checks/{id}", {}),
    ("POST", "/api/v1/suites/publish", {"json": {"check_id": "{id}"}}),
    ("POST", "/api/v1/courses/{id}/roster", {"data": {"csv_text": "email,name\n"}}),
    ("DELETE", "/api/v1/tokens/{id}", {}),
]


@pytest.mark.parametrize("big", BIG_IDS, ids=["2^31", "10^30"])
@pytest.mark.parametrize(("method", "path", "body"), API_ROUTES_WITH_IDS, ids=[f"{m} {p}" for m, p, _ in API_ROUTES_WITH_IDS])
def test_an_id_past_the_database_integer_is_a_4xx_on_every_api_route(
        method: str, path: str, body: dict[str, Any], big: int, api: TestClient, instructor) -> None:  # type: ignore[no-untyped-def]
    if "json" in body:
        body = {"json": {key: big if value == "{id}" else value for key, value in body["json"].items()}}
    response = api.request(method, path.format(id=big), headers=instructor, **body)
    _assert_error(response, 404, 422)


PAGE_ROUTES_WITH_IDS = [
    ("GET", "/submissions/{id}", None),
    ("GET", "/staff/submissions/{id}", None),
    ("POST", "/staff/submissions/{id}/regrade", {}),
    ("POST", "/staff/submissions/{id}/manual/q4-proof", {}),
    ("POST", "/staff/assignments/hw1/regrade", {"student_id": "{id}"}),
    ("GET", "/instructor/suites/checks/{id}", None),
    ("POST", "/instructor/suites/publish", {"check_id": "{id}"}),
]


@pytest.mark.parametrize(("method", "path", "form"), PAGE_ROUTES_WITH_IDS, ids=[f"{m} {p}" for m, p, _ in PAGE_ROUTES_WITH_IDS])
def test_an_id_past_the_database_integer_is_a_4xx_on_every_page(
        method: str, path: str, form: dict[str, str] | None, course, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    login(client, "instructor@test")
    csrf = csrf_of(client, "/instructor/suites")
    for big in BIG_IDS:
        data = None if form is None else {key: str(big) for key in form} | {"csrf_token": csrf}
        response = client.request(method, path.format(id=big), data=data)
        assert response.status_code in (404, 422), (big, response.status_code, response.text[:300])


# --- NUL characters and over-long cells --------------------------------------------------------------

def test_a_nul_in_an_email_slug_title_or_comment_is_a_422(rt, course, api: TestClient, client: TestClient, instructor) -> None:  # type: ignore[no-untyped-def]
    _assert_error(api.post("/api/v1/tokens", json={"email": "ta\x00@test", "password": PASSWORD}), 422)
    _assert_error(api.get("/api/v1/assignments/hw%001/stats", headers=instructor), 422)
    settings = api.get("/api/v1/assignments", headers=instructor).json()[0]
    edited = {key: settings[key] for key in ("due_at", "late_penalty_per_day", "late_days_allowed", "max_submissions",
                                             "grade_policy", "results_published")} | {"title": "HW\x001"}
    _assert_error(api.put(f"/api/v1/assignments/{settings['slug']}/settings", json=edited, headers=instructor), 422)
    _, token = _new_student(rt, course, api)
    submission_id = api.post("/api/v1/assignments/hw1/answers", json={"q1.alpha": "1"}, headers=token).json()["id"]
    _assert_error(api.post(f"/api/v1/submissions/{submission_id}/manual-grades/q4-proof",
                           json={"items": {"rigor": 1}, "comment": "good\x00"}, headers=instructor), 422)
    page = client.get("/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    refused = client.post("/login", data={"email": "ta\x00@test", "password": PASSWORD, "csrf_token": csrf}, follow_redirects=False)
    assert refused.status_code == 422 and "NUL" in refused.text


def test_roster_rows_with_nul_or_over_long_cells_are_reported_by_line_and_skipped(rt, course, api: TestClient, instructor) -> None:  # type: ignore[no-untyped-def]
    rows = ["email,name,role", "nul\x00@test,Nul Email", "nul-name@test,Nul\x00Name", "long-name@test," + "N" * 201,
            "x" * 300 + "@test,Long Email", "fine-roster@test,Fine,student,extra cell", "bad-role@test,Bad Role," + "r" * 5000]
    response = api.post(f"/api/v1/courses/{course['course']}/roster", data={"csv_text": "\n".join(rows)}, headers=instructor)
    assert response.status_code == 200, response.text[:1000]
    outcome = response.json()
    assert [email for email, _ in outcome["created"]] == ["fine-roster@test"] and outcome["enrolled"] == 1
    assert [error.split(":")[0] for error in outcome["errors"]] == ["line 2", "line 3", "line 4", "line 5", "line 7"]
    assert max(len(error) for error in outcome["errors"]) < 300, outcome["errors"]
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.email.like("%name@test"))) == 0


def test_a_roster_cell_past_the_csv_modules_limit_is_an_error_line(course, api: TestClient, instructor) -> None:  # type: ignore[no-untyped-def]
    text = "email,name\nhuge@test," + "n" * 200_000 + "\n"
    response = api.post(f"/api/v1/courses/{course['course']}/roster", data={"csv_text": text}, headers=instructor)
    assert response.status_code == 200 and response.json()["created"] == [], response.text[:500]
    assert "not readable as CSV" in response.json()["errors"][0] and len(response.json()["errors"][0]) < 300


# --- the staff pages' forms ---------------------------------------------------------------------------

def test_a_non_numeric_hand_grade_or_student_id_is_a_422_on_the_staff_pages(rt, course, api: TestClient, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    student, token = _new_student(rt, course, api)
    submission_id = api.post("/api/v1/assignments/hw1/answers", json={"q1.alpha": "1"}, headers=token).json()["id"]
    login(client, "ta@test")
    csrf = csrf_of(client, f"/staff/submissions/{submission_id}")
    graded = client.post(f"/staff/submissions/{submission_id}/manual/q4-proof",
                         data={"item:rigor": "lots", "comment": "", "csrf_token": csrf}, follow_redirects=False)
    assert graded.status_code == 422 and "rigor" in graded.text
    with rt.db.session() as session:
        runs_before = session.scalar(select(func.count()).select_from(GradingRun)) or 0
    for student_id in ("²", "١٢", "abc", str(2**31)):
        regraded = client.post("/staff/assignments/hw1/regrade", data={"student_id": student_id, "csrf_token": csrf},
                               follow_redirects=False)
        assert regraded.status_code == 422, (student_id, regraded.status_code)
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(GradingRun)) == runs_before  # nothing regraded
    one = client.post("/staff/assignments/hw1/regrade", data={"student_id": str(student.id), "csrf_token": csrf},
                      follow_redirects=False)
    assert one.status_code == 303


# --- the error shape --------------------------------------------------------------------------------

def test_every_api_operation_declares_the_one_error_shape(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "403", "404", "422"):
                declared = operation["responses"][status]["content"]["application/json"]["schema"]
                assert declared == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)


def test_errors_of_every_kind_have_the_declared_shape(api: TestClient, instructor) -> None:  # type: ignore[no-untyped-def]
    _assert_error(api.get("/api/v1/me"), 401)
    _assert_error(api.get("/api/v1/no-such-route", headers=instructor), 404)
    _assert_error(api.get("/api/v1/assignments/no-such-assignment/stats", headers=instructor), 404)
    invalid = _assert_error(api.post("/api/v1/suites/publish", json={"check_id": "x"}, headers=instructor), 422)
    assert invalid["errors"][0]["loc"] == ["body", "check_id"] and "check_id" in invalid["detail"]
    _assert_error(api.post("/api/v1/suites/publish", content=b"{not json", headers=instructor | {"content-type": "application/json"}), 422)


def test_the_404_for_someone_elses_artifact_is_the_404_for_ones_own_hidden_one(rt, course, api: TestClient) -> None:  # type: ignore[no-untyped-def]
    owner, owner_token = _new_student(rt, course, api)
    _, other_token = _new_student(rt, course, api)
    response = api.post("/api/v1/assignments/hw1/submissions", files={"file": ("answers.yaml", REFERENCE_HW1.read_bytes())},
                        headers=owner_token)
    assert response.status_code == 201, response.text
    with rt.db.session() as session:
        run_id = session.scalar(select(GradingRun.id).where(GradingRun.submission_id == response.json()["id"]))
        artifact = Artifact(run_id=run_id, test_id="q5-mutually-independent", kind="image", name="grid.png",
                            path="/nonexistent/grid.png", content_type="image/png")  # a hidden test's
        session.add(artifact)
        session.commit()
        artifact_id = artifact.id
    own_hidden = _assert_error(api.get(f"/api/v1/artifacts/{artifact_id}", headers=owner_token), 404)
    someone_elses = _assert_error(api.get(f"/api/v1/artifacts/{artifact_id}", headers=other_token), 404)
    assert own_hidden == someone_elses
