"""A bad upload is refused when it is sent, with the reason, and costs no submission: the intake
checks the worker makes (paths, links, required and allowed files) run before the upload counts."""

from __future__ import annotations

import io
import select as socket_select
import socket
import struct
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from grader_api.db import utcnow
from grader_api.models import Assignment, Course, GradingRun, Submission
from grader_api.services.assignments import create_assignment
from grader_core.config import Settings
from grader_core.suite import parse_suite

from .conftest import PASSWORD, REFERENCE_HW1, csrf_of, login, make_student

SMALL = Path(__file__).with_name("small.yaml")


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


# --- malformed zips: a 422 naming the reason, and nothing left on disk ------------------------------

def _bearer(client: TestClient, email: str) -> dict[str, str]:
    answer = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD, "name": "test"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _on_disk(settings: Settings) -> set[Path]:
    """Every stored upload (``YYYY/MM/DD/<id>/<name>``; the date folders are shared) and the API's
    intake folders in the scratch folder (where a worker may be grading other tests' runs)."""
    uploads = settings.upload_dir
    return {*uploads.glob("*/*/*/*"), *uploads.glob("*/*/*/*/*"), *settings.work_dir.glob("dgm-intake-*")}


def _zip_entries(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    """Members in order, duplicates included."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", method) as archive:
        warnings.simplefilter("ignore")  # "Duplicate name"
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buffer.getvalue()


def _encrypted(data: bytes) -> bytes:
    """The first member marked encrypted (general purpose flag bit 0, in both of its headers)."""
    marked = bytearray(data)
    marked[marked.index(b"PK\x03\x04") + 6] |= 1
    marked[marked.index(b"PK\x01\x02") + 8] |= 1
    return bytes(marked)


def _corrupt(data: bytes) -> bytes:
    """The first member's compressed stream overwritten from its start: not deflate data any more."""
    damaged = bytearray(data)
    name_length, extra_length = struct.unpack_from("<HH", data, 26)  # of the first local header
    start = 30 + name_length + extra_length
    damaged[start:start + 16] = b"\xff" * 16
    return bytes(damaged)


ANSWERS = ("answers.yaml", REFERENCE_HW1.read_bytes())
MALFORMED_ZIPS = {
    "duplicate names": (_zip_entries([ANSWERS, ANSWERS]), "same path"),
    "./a and a": (_zip_entries([("./answers.yaml", b"q: 1"), ANSWERS]), "same path"),
    "a file and a folder of its name": (_zip_entries([ANSWERS, ("answers.yaml/x.md", b"")]), "same path"),
    "a member named '.'": (_zip_entries([ANSWERS, (".", b"x")]), "no name"),
    "an empty name": (_zip_entries([ANSWERS, ("", b"x")]), "no name"),
    "an encrypted member": (_encrypted(_zip_entries([ANSWERS])), "encrypted"),
    "a corrupt member": (_corrupt(_zip_entries([ANSWERS], zipfile.ZIP_DEFLATED)), "could not be read"),
    "a 300-character name": (_zip_entries([ANSWERS, ("n" * 297 + ".md", b"x")]), "too long"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_ZIPS))
def test_a_malformed_zip_is_refused_with_its_reason_and_leaves_nothing(case: str, rt, course, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"], password=True)
    data, reason = MALFORMED_ZIPS[case]
    before = _on_disk(rt.settings)
    refused = client.post("/api/v1/assignments/hw1/submissions", files={"file": ("work.zip", data)},
                          headers=_bearer(client, student.email))
    assert refused.status_code == 422, refused.text
    assert "upload rejected" in refused.json()["detail"] and reason in refused.json()["detail"], refused.json()
    assert len(refused.json()["detail"]) < 400
    assert _on_disk(rt.settings) == before
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission).where(Submission.user_id == student.id)) == 0


# --- the cheap checks come before the upload is read, stored or unpacked ----------------------------

@pytest.fixture
def small_assignment(rt, course) -> Iterator[Callable[..., str]]:  # type: ignore[no-untyped-def]
    """Makes ``small.yaml`` (answers only) a new assignment taking at most ``max_bytes`` (None: the
    service's limit), whose runs wait on the gpu queue (no test worker consumes it), with
    ``columns`` set on its row; returns its slug. Its runs are failed afterwards: left queued, they
    would move the queue positions other tests expect."""
    slugs: list[str] = []

    def create(max_bytes: int | None = 1024, **columns: object) -> str:
        slug = f"intake-{uuid.uuid4().hex[:6]}"
        limit = f"  max_bytes: {max_bytes}\n" if max_bytes is not None else ""
        text = (SMALL.read_text().replace("\nid: small\n", f"\nid: {slug}\n")
                .replace("  answers_file: answers.yaml\n", f"  answers_file: answers.yaml\n{limit}")
                .replace("main: {wall_seconds", "main: {gpu: true, wall_seconds"))
        with rt.db.session() as session:
            assignment = create_assignment(session, session.get_one(Course, course["course"]), parse_suite(text, SMALL),
                                           utcnow() + timedelta(days=7), rt.settings, None)
            for column, value in columns.items():
                setattr(assignment, column, value)
            session.commit()
        slugs.append(slug)
        return slug

    yield create
    with rt.db.session() as session:
        mine = select(Submission.id).join(Assignment).where(Assignment.slug.in_(slugs))
        session.execute(update(GradingRun).where(GradingRun.submission_id.in_(mine)).values(status="failed"))
        session.commit()


GOOD_SMALL = ("answers.yaml", b"a: 3\nb: 1\n")
TOO_BIG_AND_BROKEN = ("work.zip", _zip_entries([("answers.yaml", b"a: 3\n" * 1000), ("answers.yaml", b"b: 1\n")]))


@pytest.mark.parametrize(("case", "columns", "earlier", "status", "reason"), [
    ("deadline passed", {"due_at": utcnow() - timedelta(days=2), "late_days_allowed": 0}, 0, 403, "closed"),
    ("submission cap", {"max_submissions": 1}, 1, 409, "used all 1 submissions"),
    ("queued runs", {}, 3, 429, "waiting to be graded"),
])
def test_the_cheap_checks_refuse_before_the_upload_is_read(case: str, columns: dict[str, object], earlier: int,  # type: ignore[no-untyped-def]
                                                           status: int, reason: str, rt, course, client: TestClient,
                                                           small_assignment) -> None:
    """The refused upload is both over the assignment's 1 KiB and a malformed zip: the answer is the
    cheap check's, so neither the size nor the zip was looked at, and nothing is stored."""
    slug = small_assignment(**columns)
    headers = _bearer(client, make_student(rt, course["course"], password=True).email)
    for _ in range(earlier):
        assert client.post(f"/api/v1/assignments/{slug}/submissions", files={"file": GOOD_SMALL},
                           headers=headers).status_code == 201
    before = _on_disk(rt.settings)
    refused = client.post(f"/api/v1/assignments/{slug}/submissions", files={"file": TOO_BIG_AND_BROKEN}, headers=headers)
    assert (refused.status_code, reason in refused.json()["detail"]) == (status, True), refused.text
    assert _on_disk(rt.settings) == before


# --- request bodies are bounded while they stream ---------------------------------------------------

def _post_chunked(url: str, path: str, headers: dict[str, str], total_bytes: int) -> tuple[int, str, int]:
    """POST a multipart upload of ``total_bytes`` with ``Transfer-Encoding: chunked`` (no length), as
    fast as the server reads it, until the server answers: (status, body, bytes sent by then)."""
    address = urlsplit(url)
    boundary = "dgm-test-boundary"
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    part_head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.zip"\r\n'
                 'Content-Type: application/zip\r\n\r\n').encode()
    block = b"\0" * (256 * 1024)
    sent = 0
    with socket.create_connection((address.hostname, address.port), timeout=60) as connection:
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nTransfer-Encoding: chunked\r\n"
                           f"Content-Type: multipart/form-data; boundary={boundary}\r\n{head}\r\n".encode())
        connection.sendall(b"%x\r\n%s\r\n" % (len(part_head), part_head))
        while sent < total_bytes:
            readable, _, _ = socket_select.select([connection], [connection], [], 30)
            if readable:
                break
            try:
                connection.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            except OSError:  # the server answered and closed while we were still sending
                break
            sent += len(block)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 4 + _length(answer):
            piece = connection.recv(65536)
            if not piece:
                break
            answer += piece
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1].decode(errors="replace"), sent


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


MIB = 1024 * 1024


@pytest.mark.parametrize("own_limit", [True, False])
def test_a_chunked_upload_is_cut_off_at_the_limit_with_413(own_limit: bool, rt, course, client: TestClient,  # type: ignore[no-untyped-def]
                                                           live_url: str, small_assignment) -> None:
    """200 MB sent in chunks (no Content-Length): refused 413 once it passes the assignment's own
    limit (HW1: 10 MiB) or else the service's (64 MiB), long before the end, and nothing is stored."""
    slug = "hw1" if own_limit else small_assignment(max_bytes=None)
    limit_mib = 10 if own_limit else rt.settings.max_upload_bytes // MIB
    headers = _bearer(client, make_student(rt, course["course"], password=True).email)
    before = _on_disk(rt.settings)
    status, body, sent = _post_chunked(live_url, f"/api/v1/assignments/{slug}/submissions", headers, 200 * MIB)
    assert status == 413, body
    assert f"this assignment's limit of {limit_mib}.0 MiB" in body, body
    assert sent < (limit_mib + 24) * MIB, f"{sent / MIB:.0f} MiB were read before the answer"
    assert _on_disk(rt.settings) == before


def test_an_upload_over_the_assignment_limit_is_refused_naming_the_limit(rt, course, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    headers = _bearer(client, make_student(rt, course["course"], password=True).email)
    refused = client.post("/api/v1/assignments/hw1/submissions", headers=headers,
                          files={"file": ("answers.yaml", b"#" * (11 * MIB))})
    assert refused.status_code == 413 and "this assignment's limit of 10.0 MiB" in refused.json()["detail"], refused.text


def test_the_upload_page_takes_a_form_with_its_csrf_field_and_refuses_one_over_the_limit(rt, course,  # type: ignore[no-untyped-def]
                                                                                         client: TestClient) -> None:
    """A browser's form carries the CSRF token as a field, so the CSRF check reads the form first."""
    student = make_student(rt, course["course"], password=True)
    login(client, student.email)
    token = csrf_of(client, "/assignments/hw1")
    too_big = client.post("/assignments/hw1/upload", data={"csrf_token": token},
                          files={"file": ("answers.yaml", b"#" * (11 * MIB))})
    assert too_big.status_code == 413 and "limit of 10.0 MiB" in too_big.text
    sent = client.post("/assignments/hw1/upload", data={"csrf_token": token}, follow_redirects=False,
                       files={"file": ("answers.yaml", REFERENCE_HW1.read_bytes())})
    assert sent.status_code == 303 and sent.headers["location"].startswith("/submissions/"), sent.text
