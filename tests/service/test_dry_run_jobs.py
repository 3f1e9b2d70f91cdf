"""Dry runs are jobs like grading runs: a suite whose dry run kills its worker every time is failed
after ``max_grading_attempts``, not delivered forever; a dry run the broker lost is published again by
the reconciler and finishes. Real PostgreSQL, Redis and a prefork Celery worker."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from datetime import timedelta

import redis
from fastapi.testclient import TestClient

from grader_api.db import utcnow
from grader_api.models import SuiteCheck, User
from grader_api.services.suites import SUITES_DIR, parse, routing
from worker.celery_app import app as celery_app
from worker.reconciler import broker_task_ids, reconcile

from .conftest import csrf_of, login

HW1_TEXT = (SUITES_DIR / "hw1.yaml").read_text()


def _check(rt, check_id: int) -> SuiteCheck:  # type: ignore[no-untyped-def]
    with rt.db.session() as session:
        return session.get_one(SuiteCheck, check_id)


def _wait(rt, check_id: int, ready, what: str, timeout_s: float = 90.0) -> SuiteCheck:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not ready(check := _check(rt, check_id)):
        assert time.monotonic() < deadline, f"{what}: the check is {check.status} after {check.attempts} attempts"
        time.sleep(0.05)
    return check


def _kill_worker_children(master_pid: int) -> None:
    """SIGKILL the pool processes, as the OOM killer would; the master starts new ones."""
    children = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    assert children, "the worker has no pool processes"
    for pid in children:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_dry_run_whose_worker_dies_every_time_fails_after_the_cap(rt, course, worker, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    login(client, "instructor@test")
    text = HW1_TEXT.replace("id: hw1\n", f"id: hw1-killer-{uuid.uuid4().hex[:6]}\n", 1)
    queued = client.post("/api/v1/suites/check", data={"yaml_text": text},
                         headers={"X-CSRF-Token": csrf_of(client, "/instructor/suites")}).json()
    check_id = queued["check_id"]
    cap = rt.settings.max_grading_attempts
    for attempt in range(1, cap + 1):
        _wait(rt, check_id, lambda c, n=attempt: c.status == "running" and c.attempts == n, f"attempt {attempt}")
        _kill_worker_children(worker.pid)
    failed = _wait(rt, check_id, lambda c: c.status in ("done", "failed"), "after the last attempt")
    assert failed.status == "failed" and failed.attempts == cap
    assert failed.error == f"gave up after {cap} attempts: the dry run's worker died each time (out of memory, or killed)"
    assert failed.finished_at is not None
    shown = client.get(f"/api/v1/suites/checks/{check_id}").json()
    assert shown["status"] == "failed" and "gave up after" in shown["issues"][0]["message"]


def test_a_dry_run_lost_by_the_broker_is_published_again_and_finishes(rt, course, worker, redis_url) -> None:  # type: ignore[no-untyped-def]
    """The state a lost message leaves: the row says queued, the broker holds nothing for it."""
    loaded = parse(HW1_TEXT.replace("id: hw1\n", "id: hw1-lost\n", 1))
    route = routing(loaded)
    with rt.db.session() as session:
        instructor = session.query(User).filter(User.email == "instructor@test").one()
        check = SuiteCheck(yaml_text=loaded.text, sha256=loaded.sha256, suite_id=loaded.suite.id, queue=route.queue,
                           time_limit_s=route.soft_limit_s, task_id=f"lost-{uuid.uuid4().hex}", requested_by_id=instructor.id,
                           requested_at=utcnow() - timedelta(minutes=5))
        session.add(check)
        session.commit()
    redis.Redis.from_url(redis_url).flushdb()  # a restart without persistence
    assert broker_task_ids(celery_app) == set()
    republished = reconcile(rt, celery_app)
    assert republished.dry_runs == [check.id] and republished.runs == []
    assert _check(rt, check.id).task_id != check.task_id  # the old message, should it turn up, is stale
    done = _wait(rt, check.id, lambda c: c.status in ("done", "failed"), "after the reconciler published it")
    assert done.status == "done" and done.passed and done.attempts == 1
