"""Service fixtures: a scratch PostgreSQL database per session, a private Redis database, real Celery
workers (a prefork subprocess, as in production), and the app over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from grader_api.db import utcnow
from grader_api.main import create_app
from grader_api.migrate import upgrade
from grader_api.models import Enrollment, GradingRun, User
from grader_api.scratch import scratch_database, serve_in_thread
from grader_api.security import hash_password
from grader_api.services.assignments import create_assignment, get_or_create_course
from grader_api.services.suites import SUITES_DIR
from grader_core.config import Settings, settings_env
from grader_core.suite import load_suite
from tests.conftest import REPO
from worker.celery_app import configure
from worker.runtime import Runtime

PG_ADMIN = os.environ.get("DGM_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("DGM_TEST_REDIS", "redis://127.0.0.1:6379")
REFERENCE_HW1 = REPO / "test_suites" / "reference_solutions" / "hw1" / "answers.yaml"
PASSWORD = "correct horse"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    try:
        psycopg.connect(PG_ADMIN).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the service tests: {exc}")
    with scratch_database(PG_ADMIN, prefix="dgm_test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database of its own (numbers 10-15), flushed before and after."""
    client = redis.Redis.from_url(REDIS)
    number = 10 + os.getpid() % 6
    url = f"{REDIS}/{number}"
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()
    client.close()


@pytest.fixture(scope="session")
def service_settings(pg_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("service")
    return Settings(
        database_url=pg_url, broker_url=redis_url, sandbox_backend="bwrap", secret_key="test-secret",
        upload_dir=root / "uploads", artifact_dir=root / "artifacts", work_dir=root / "work",
        reconcile_interval_s=0, max_queued_runs_per_student=3,
    )


@pytest.fixture(scope="session")
def rt(service_settings: Settings) -> Runtime:
    upgrade(service_settings.database_url)
    configure(service_settings)
    from worker.runtime import get_runtime

    return get_runtime()


@pytest.fixture(scope="session")
def course(rt: Runtime) -> dict[str, int]:
    """The course, HW1 (and a slow suite for fault tests), and the staff accounts."""
    with rt.db.session() as session:
        course = get_or_create_course(session, "DGM", "Deep Generative Models")
        hw1 = create_assignment(session, course, load_suite(SUITES_DIR / "hw1.yaml"), utcnow() + timedelta(days=7), rt.settings, None)
        slow = create_assignment(session, course, load_suite(Path(__file__).with_name("slow.yaml")), utcnow() + timedelta(days=7), rt.settings, None)
        for role in ("ta", "instructor"):
            session.add(User(email=f"{role}@test", name=role.upper(), role=role, password_hash=hash_password(PASSWORD)))
        session.commit()
        return {"course": course.id, "hw1": hw1.id, "slow": slow.id}


def make_student(rt: Runtime, course_id: int, name: str | None = None, password: bool = False) -> User:
    name = name or f"student-{uuid.uuid4().hex[:8]}"
    with rt.db.session() as session:
        user = User(email=f"{name}@test", name=name, role="student", password_hash=hash_password(PASSWORD) if password else None)
        session.add(user)
        session.flush()
        session.add(Enrollment(course_id=course_id, user_id=user.id))
        session.commit()
        return user


@pytest.fixture(scope="session")
def worker(rt: Runtime, service_settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """A real prefork worker (two children), as production runs it."""
    env = os.environ | settings_env(service_settings)
    service_settings.work_dir.mkdir(parents=True, exist_ok=True)
    log = open(service_settings.work_dir / "worker.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker", "-P", "prefork", "-c", "2", "-Q", "cpu",
         "--without-mingle", "--without-gossip", "--loglevel", "INFO", "-n", f"test-{uuid.uuid4().hex[:6]}@%h"],
        env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def client(rt: Runtime, service_settings: Settings) -> Iterator[TestClient]:
    app = create_app(service_settings, rt.db, reconcile=False)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_url(rt: Runtime, service_settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on a free port, for a browser or a command-line client."""
    with serve_in_thread(create_app(service_settings, rt.db, reconcile=False)) as url:
        yield url


def wait_finished(rt: Runtime, run_ids: list[int], timeout: float = 120.0) -> dict[int, GradingRun]:
    deadline = time.monotonic() + timeout
    while True:
        with rt.db.session() as session:
            runs = {run.id: run for run in session.query(GradingRun).filter(GradingRun.id.in_(run_ids))}
        if all(run.status in ("graded", "failed") for run in runs.values()) and len(runs) == len(run_ids):
            return runs
        if time.monotonic() > deadline:
            pending = {i: r.status for i, r in runs.items() if r.status not in ("graded", "failed")}
            raise AssertionError(f"runs not finished after {timeout} s: {pending}")
        time.sleep(0.3)


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    client.cookies.clear()
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text


def csrf_of(client: TestClient, page: str) -> str:
    return client.get(page).text.split('name="csrf_token" value="')[1].split('"')[0]
