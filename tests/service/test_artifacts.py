"""Pictures the checks make (sample grids) travel from the worker to the result page: stored under
the artifact directory, listed with the submission, served to its owner only for tests the owner
may see, and to staff always."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from grader_api.db import utcnow
from grader_api.models import Course, User
from grader_api.services.assignments import create_assignment
from grader_api.services.submissions import store_upload, submit
from grader_core.suite import load_suite

from .conftest import login, make_student, wait_finished

SAMPLER = b'''
import torch


class Blobs:
    def conditionals(self, x):
        return torch.full_like(x, 0.2)

    def sample(self, n, generator):
        return (torch.rand(n, 28, 28, generator=generator) < 0.2).float()


def load_model(weights_dir):
    return Blobs()
'''
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def graded(rt, course, worker) -> dict[str, object]:  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"], password=True)
    with rt.db.session() as session:
        assignment = create_assignment(session, session.get_one(Course, course["course"]),
                                       load_suite(Path(__file__).with_name("samples.yaml")), utcnow() + timedelta(days=7),
                                       rt.settings, None)
        session.commit()
        upload = store_upload([SAMPLER], "main.py", rt.settings, 1 << 20)
        run = submit(session, assignment, session.get_one(User, student.id), upload, rt.settings)
        run_id, submission_id = run.id, run.submission_id
    assert wait_finished(rt, [run_id])[run_id].status == "graded"
    return {"student": student, "submission_id": submission_id}


def test_the_student_gets_the_grid_of_a_visible_test_only(graded, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    login(client, graded["student"].email)
    submission = client.get(f"/api/v1/submissions/{graded['submission_id']}").json()
    artifacts = submission["artifacts"]
    assert [(a["test_id"], a["name"]) for a in artifacts] == [("shown", "samples.png")], submission["tests"]
    picture = client.get(artifacts[0]["url"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(PNG_MAGIC)
    assert f'src="{artifacts[0]["url"]}"' in client.get(f"/submissions/{graded['submission_id']}").text


def test_hidden_grids_and_other_students_are_refused(graded, rt, course, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    login(client, "ta@test")
    staff_view = client.get(f"/api/v1/submissions/{graded['submission_id']}").json()["artifacts"]
    by_test = {a["test_id"]: a["url"] for a in staff_view}
    assert set(by_test) == {"shown", "kept"}
    assert client.get(by_test["kept"]).content.startswith(PNG_MAGIC)
    login(client, graded["student"].email)
    assert client.get(by_test["kept"]).status_code == 404
    login(client, make_student(rt, course["course"], password=True).email)
    assert client.get(by_test["shown"]).status_code == 404
