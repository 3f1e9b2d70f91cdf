"""The TA dashboard reads a fixed number of SQL statements whatever the number of students (no query
per student or per submission): counted on the real page, before and after the class grows."""

from __future__ import annotations

from fastapi.testclient import TestClient

from grader_api.db import counting_statements
from grader_api.scratch import seed_gradebook

from .conftest import login, make_student


def _render(client: TestClient, rt) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(SQL statements, student rows) of one render of the dashboard."""
    with counting_statements(rt.db.engine) as statements:
        page = client.get("/staff/dashboard")
    assert page.status_code == 200
    return len(statements), page.text.count("<tr data-student=")


def test_the_dashboard_query_count_does_not_grow_with_students(rt, course, client):  # type: ignore[no-untyped-def]
    assignments = [course["hw1"], course["slow"]]
    login(client, "ta@test")
    with rt.db.session() as session:
        seed_gradebook(session, course["course"], assignments, students=3, submissions_each=2, seed=1)
    small, rows_before = _render(client, rt)
    with rt.db.session() as session:
        seed_gradebook(session, course["course"], assignments, students=60, submissions_each=3, seed=2)
    large, rows_after = _render(client, rt)
    assert rows_after == rows_before + 60  # every new student is on the page: a real render was counted
    assert large == small, f"{small} SQL statements for {rows_before} students, {large} for {rows_after}"


def test_the_json_api_serves_what_the_dashboard_and_stats_pages_show(rt, course, client):  # type: ignore[no-untyped-def]
    login(client, "ta@test")
    with rt.db.session() as session:
        seed_gradebook(session, course["course"], [course["hw1"]], students=4, submissions_each=2, seed=3)
    book = client.get(f"/api/v1/courses/{course['course']}/gradebook").json()
    page = client.get("/staff/dashboard").text
    assert page.count("<tr data-student=") == len(book["rows"]) >= 4
    for row in book["rows"]:
        assert f'data-student="{row["student"]["email"]}"' in page
        assert row["total"] == sum(cell["score"] or 0 for cell in row["cells"])
    hw1_scores = [cell["score"] for row in book["rows"] for cell in row["cells"] if cell["assignment"] == "hw1"]
    stats = client.get("/api/v1/assignments/hw1/stats").json()
    assert stats["students_graded"] == sum(score is not None for score in hw1_scores) >= 4
    assert sum(b["students"] for b in stats["histogram"]) == stats["students_graded"]
    assert all(0 <= rate["pass_rate"] <= 1 for rate in stats["pass_rates"])
    assert client.get(f"/api/v1/courses/{course['course'] + 999}/gradebook").status_code == 404
    login(client, make_student(rt, course["course"], password=True).email)
    assert client.get(f"/api/v1/courses/{course['course']}/gradebook").status_code == 403
    assert client.get("/api/v1/assignments/hw1/stats").status_code == 403
