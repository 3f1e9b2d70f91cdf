"""The TA dashboard reads a fixed number of SQL statements whatever the number of students (no query
per student or per submission): counted on the real page, before and after the class grows."""

from __future__ import annotations

from fastapi.testclient import TestClient

from grader_api.db import counting_statements
from grader_api.scratch import seed_gradebook

from .conftest import login


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
