"""The queue against real PostgreSQL, Redis and a prefork Celery worker: grading, idempotency,
attempt caps, fairness, a worker killed mid-run, a flushed Redis, 200 concurrent uploads."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import func, select

from grader_api.db import utcnow
from grader_api.models import ApiToken, Assignment, GradingRun, Submission, TestResultRow, User
from grader_api.security import new_api_token
from grader_api.services.submissions import StoredUpload, SubmissionRefused, queue_position, store_upload, submit
from worker.celery_app import app as celery_app
from worker.grading import execute_run
from worker.queueing import PRIORITY
from worker.reconciler import broker_task_ids, reconcile

from .conftest import REFERENCE_HW1, make_student, wait_finished

SLOW_MAIN = "import time\n\ndef slow():\n    time.sleep(4)\n    return 42\n"


def _store(rt, tmp_path: Path, name: str, data: bytes) -> StoredUpload:  # type: ignore[no-untyped-def]
    return store_upload([data], name, rt.settings, 10 * 1024 * 1024)


def _submit(rt, assignment_id: int, user: User, name: str, data: bytes, tmp_path: Path) -> GradingRun:  # type: ignore[no-untyped-def]
    with rt.db.session() as session:
        assignment = session.get_one(Assignment, assignment_id)
        return submit(session, assignment, user, _store(rt, tmp_path, name, data), rt.settings)


def test_a_submission_is_graded_once_and_redelivery_changes_nothing(rt, course, worker, tmp_path):  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"])
    run = _submit(rt, course["hw1"], student, "answers.yaml", REFERENCE_HW1.read_bytes(), tmp_path)
    graded = wait_finished(rt, [run.id])[run.id]
    assert graded.status == "graded" and graded.attempts == 1
    assert graded.score == graded.automatic_max_score > 0
    assert execute_run(rt, run.id, run.task_id, "again") == "skipped"  # the same message delivered again
    with rt.db.session() as session:
        again = session.get_one(GradingRun, run.id)
        assert (again.attempts, again.finished_at, again.score) == (1, graded.finished_at, graded.score)
        assert session.scalar(select(func.count()).select_from(TestResultRow).where(TestResultRow.run_id == run.id)) == len(again.tests) > 0
        assert again.submission.status == "graded" and again.submission.auto_score == graded.score


def test_attempts_are_capped(rt, course, tmp_path):  # type: ignore[no-untyped-def]
    """A submission that kills its worker every time is given up on, not retried forever."""
    student = make_student(rt, course["course"])
    with rt.db.session() as session:
        assignment = session.get_one(Assignment, course["hw1"])
        run = GradingRun(submission=Submission(assignment_id=assignment.id, user_id=student.id, number=1, filename="a.yaml",
                                               stored_path="/nonexistent", file_sha256="0" * 64, size_bytes=1),
                         suite_version_id=assignment.current_suite_version_id, kind="first", priority=0, queue="cpu",
                         status="running", task_id="t-cap", attempts=rt.settings.max_grading_attempts)
        session.add(run)
        session.commit()
    assert execute_run(rt, run.id, "t-cap", "w") == "skipped"
    with rt.db.session() as session:
        failed = session.get_one(GradingRun, run.id)
        assert failed.status == "failed" and "gave up after" in failed.error
        assert failed.attempts == rt.settings.max_grading_attempts and not failed.tests


def _waiting_run(session, assignment: Assignment, user: User, kind: str) -> GradingRun:  # type: ignore[no-untyped-def]
    """A run on the ``gpu`` queue, which no test worker consumes: it stays queued."""
    submission = Submission(assignment_id=assignment.id, user_id=user.id, number=1, filename="a.yaml",
                            stored_path="/nonexistent", file_sha256="0" * 64, size_bytes=1)
    run = GradingRun(submission=submission, suite_version_id=assignment.current_suite_version_id, kind=kind,
                     priority=PRIORITY[kind], queue="gpu", status="queued", task_id=f"never-sent-{id(submission)}")
    session.add(run)
    return run


def test_fairness_order_position_and_per_student_cap(rt, course, tmp_path):  # type: ignore[no-untyped-def]
    """First submissions before resubmissions before regrades, then by time; a cap on waiting runs."""
    with rt.db.session() as session:
        assignment = session.get_one(Assignment, course["hw1"])
        kinds = ["regrade", "resubmission", "first", "first"]
        runs = [_waiting_run(session, assignment, make_student(rt, course["course"]), kind) for kind in kinds]
        session.commit()
        assert [queue_position(session, run) for run in runs] == [4, 3, 1, 2]
        capped = make_student(rt, course["course"])
        for _ in range(rt.settings.max_queued_runs_per_student):
            _waiting_run(session, assignment, capped, "first")
        session.commit()
    with pytest.raises(SubmissionRefused) as refused:
        _submit(rt, course["hw1"], capped, "answers.yaml", REFERENCE_HW1.read_bytes(), tmp_path)
    assert refused.value.status_code == 429
    with rt.db.session() as session:  # leave the gpu queue empty for the other tests
        session.query(GradingRun).filter(GradingRun.queue == "gpu").update({"status": "failed"})
        session.commit()


def test_a_worker_killed_mid_run_is_redelivered_and_graded_once(rt, course, worker, tmp_path):  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"])
    run = _submit(rt, course["slow"], student, "main.py", SLOW_MAIN.encode(), tmp_path)
    deadline = time.monotonic() + 60
    while True:
        with rt.db.session() as session:
            current = session.get_one(GradingRun, run.id)
        if current.status == "running" and current.worker_pid:
            break
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.1)
    time.sleep(1.0)  # inside the slow probe
    os.kill(current.worker_pid, signal.SIGKILL)  # as the OOM killer would
    final = wait_finished(rt, [run.id], timeout=90)[run.id]
    assert final.status == "graded", final.error
    assert final.attempts == 2 and final.worker_pid != current.worker_pid
    assert final.score == 1.0
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(TestResultRow).where(TestResultRow.run_id == run.id)) == 1
        assert session.scalar(select(func.count()).select_from(GradingRun).where(GradingRun.submission_id == run.submission_id)) == 1


def test_flushed_redis_loses_no_submission(rt, course, worker, tmp_path, redis_url):  # type: ignore[no-untyped-def]
    students = [make_student(rt, course["course"]) for _ in range(8)]
    runs = [_submit(rt, course["hw1"], s, "answers.yaml", REFERENCE_HW1.read_bytes(), tmp_path) for s in students]
    redis.Redis.from_url(redis_url).flushdb()  # a restart without persistence
    assert broker_task_ids(celery_app) == set()
    with rt.db.session() as session:
        waiting = session.scalar(select(func.count()).select_from(GradingRun).where(
            GradingRun.id.in_([r.id for r in runs]), GradingRun.status == "queued"))
    assert waiting >= 4, "the worker took the runs before the flush; the test proves nothing"
    requeued = reconcile(rt, celery_app, now=utcnow() + timedelta(seconds=60)).runs
    assert len(requeued) >= waiting - 2 and set(requeued) <= {r.id for r in runs}  # (a worker may claim one meanwhile)
    finished = wait_finished(rt, [r.id for r in runs], timeout=120)
    assert all(r.status == "graded" and r.attempts == 1 for r in finished.values())


def test_200_concurrent_uploads_are_stored_and_graded_once(rt, course, worker, client):  # type: ignore[no-untyped-def]
    tokens = []
    with rt.db.session() as session:
        for _ in range(200):
            user = make_student(rt, course["course"])
            token, digest = new_api_token()
            session.add(ApiToken(user_id=user.id, token_sha256=digest, name="load"))
            tokens.append(token)
        session.commit()
    body = REFERENCE_HW1.read_bytes()

    async def upload_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as http:
            return await asyncio.gather(*(
                http.post("/api/v1/assignments/hw1/submissions", files={"file": ("answers.yaml", body)},
                          headers={"Authorization": f"Bearer {token}"}) for token in tokens))

    started = time.monotonic()
    responses = asyncio.run(upload_all())
    upload_s = time.monotonic() - started
    assert [r.status_code for r in responses] == [201] * 200, {r.status_code: r.text for r in responses if r.status_code != 201}
    ids = [r.json()["run"]["id"] for r in responses]
    finished = wait_finished(rt, ids, timeout=300)
    graded_s = time.monotonic() - started
    assert all(r.status == "graded" and r.attempts == 1 for r in finished.values())
    with rt.db.session() as session:
        submissions = session.scalars(select(Submission).where(Submission.id.in_([r.submission_id for r in finished.values()]))).all()
        assert len(submissions) == 200
        for submission in submissions:
            assert hashlib.sha256(Path(submission.stored_path).read_bytes()).hexdigest() == submission.file_sha256
        assert session.scalar(select(func.count()).select_from(GradingRun).where(
            GradingRun.submission_id.in_([s.id for s in submissions]))) == 200
    print(f"\n200 uploads accepted in {upload_s:.1f} s, all graded in {graded_s:.1f} s")
