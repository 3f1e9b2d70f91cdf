"""A bad upload is refused when it is sent, with the reason, and costs no submission: the intake
checks the worker makes (paths, links, required and allowed files) run before the upload counts."""

from __future__ import annotations

import io
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from grader_api.models import Submission

from .conftest import REFERENCE_HW1, csrf_of, login, make_student


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


BAD_UPLOADS = {
    "path traversal": ("work.zip", _zip({"../answers.yaml": REFERENCE_HW1.read_bytes()}), "path traversal"),
    "missing answers": ("work.zip", _zip({"notes.md": b"# my notes\n"}), "answers.yaml"),
    "disallowed file": ("work.zip", _zip({"answers.yaml": REFERENCE_HW1.read_bytes(), "run.sh": b"rm -rf /"}), "run.sh"),
    "not an archive": ("work.rar", b"Rar!\x1a\x07\x00", "unsupported upload"),
}


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_a_bad_upload_is_refused_with_its_reason_and_costs_nothing(case: str, rt, course, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"], password=True)
    login(client, student.email)
    name, data, reason = BAD_UPLOADS[case]
    csrf = {"X-CSRF-Token": csrf_of(client, "/assignments")}
    refused = client.post("/api/v1/assignments/hw1/submissions", files={"file": (name, data)}, headers=csrf)
    assert refused.status_code == 422, refused.text
    assert "upload rejected" in refused.json()["detail"] and reason in refused.json()["detail"], refused.json()
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission).where(Submission.user_id == student.id)) == 0
    accepted = client.post("/api/v1/assignments/hw1/submissions", files={"file": ("answers.yaml", REFERENCE_HW1.read_bytes())},
                           headers=csrf)
    assert accepted.status_code == 201 and accepted.json()["number"] == 1
