"""The web service under load, on a scratch PostgreSQL database (created here, dropped at the end).

    .venv/bin/python bench/bench_service.py [--uploads 200] [--clients 20] [--students 50 500]

(a) Upload latency: ``--uploads`` students each send HW1's reference answers over HTTP to the app
    served by uvicorn, ``--clients`` at a time; the p50/p90/p99 of the request times. The broker is
    Kombu's in-memory transport, so runs are queued and never graded: this measures the API alone.
(b) The TA dashboard: its render time over HTTP and its SQL statement count (a
    ``before_cursor_execute`` listener) for each ``--students`` count, every student with
    ``--submissions`` submissions of each of ``--assignments`` assignments. The count must not grow
    with the students (the gradebook reads rows flat, a fixed number of queries).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from grader_api.db import Database, counting_statements, utcnow
from grader_api.main import create_app
from grader_api.migrate import upgrade
from grader_api.models import ApiToken, Assignment, Enrollment, User
from grader_api.scratch import scratch_database, seed_gradebook, serve_in_thread
from grader_api.security import hash_password, new_api_token
from grader_api.services.assignments import create_assignment, get_or_create_course
from grader_api.services.monitor import percentile
from grader_api.services.suites import SUITES_DIR
from grader_core.config import PROJECT_ROOT, Settings
from grader_core.suite import load_suite
from worker.celery_app import configure

PG_ADMIN = os.environ.get("DGM_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
ANSWERS = PROJECT_ROOT / "test_suites" / "reference_solutions" / "hw1" / "answers.yaml"
TA_EMAIL, TA_PASSWORD = "ta@bench.local", "bench-password"
RENDERS = 5


@contextmanager
def scratch_service(scratch: Path) -> Iterator[tuple[Settings, Database]]:
    """Settings and a migrated database for one part of the benchmark."""
    with scratch_database(PG_ADMIN, prefix="dgm_bench") as url:
        settings = Settings(database_url=url, broker_url="memory://", secret_key="bench", upload_dir=scratch / "uploads",
                            artifact_dir=scratch / "artifacts", work_dir=scratch / "work", api_runs_reconciler=False,
                            max_queued_runs_per_student=1000)
        upgrade(url)
        configure(settings)
        database = Database(url)
        try:
            yield settings, database
        finally:
            database.dispose()


def bench_uploads(scratch: Path, uploads: int, clients: int) -> None:
    with scratch_service(scratch) as (settings, database):
        with database.session() as session:
            course = get_or_create_course(session, "BENCH", "Benchmark")
            create_assignment(session, course, load_suite(SUITES_DIR / "hw1.yaml"), utcnow() + timedelta(days=7), settings, None)
            user_ids = list(session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
                {"email": f"uploader-{i}@bench.local", "name": f"Uploader {i}", "role": "student"} for i in range(uploads)]))
            session.execute(insert(Enrollment), [{"course_id": course.id, "user_id": user_id} for user_id in user_ids])
            tokens = []
            for user_id in user_ids:
                token, digest = new_api_token()
                tokens.append(token)
                session.add(ApiToken(user_id=user_id, token_sha256=digest, name="bench"))
            session.commit()
        body = ANSWERS.read_bytes()
        with serve_in_thread(create_app(settings, database, reconcile=False)) as url:
            started = time.monotonic()
            latencies = asyncio.run(_upload_all(url, tokens, body, clients))
            elapsed = time.monotonic() - started
    p50, p90, p99 = (percentile(latencies, q) * 1000 for q in (50, 90, 99))
    print(f"uploads: {uploads} by {clients} concurrent clients in {elapsed:.1f} s ({uploads / elapsed:.0f}/s); "
          f"latency p50 {p50:.0f} ms, p90 {p90:.0f} ms, p99 {p99:.0f} ms")


async def _upload_all(url: str, tokens: list[str], body: bytes, clients: int) -> list[float]:
    waiting: asyncio.Queue[str] = asyncio.Queue()
    for token in tokens:
        waiting.put_nowait(token)
    latencies: list[float] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            while not waiting.empty():
                token = waiting.get_nowait()
                started = time.perf_counter()
                response = await http.post("/api/v1/assignments/hw1/submissions", files={"file": ("answers.yaml", body)},
                                           headers={"Authorization": f"Bearer {token}"})
                latencies.append(time.perf_counter() - started)
                if response.status_code != 201:
                    raise RuntimeError(f"upload refused: {response.status_code} {response.text}")

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def bench_dashboard(scratch: Path, student_counts: list[int], assignments: int, submissions: int) -> None:
    with scratch_service(scratch) as (settings, database):
        with database.session() as session:
            course = get_or_create_course(session, "BENCH", "Benchmark")
            assignment_ids = list(session.scalars(insert(Assignment).returning(Assignment.id, sort_by_parameter_order=True), [
                {"course_id": course.id, "slug": f"hw{i + 1}", "title": f"Homework {i + 1}",
                 "due_at": utcnow() + timedelta(days=7 * (i + 1)), "grade_policy": "latest" if i % 2 else "best"}
                for i in range(assignments)]))
            session.add(User(email=TA_EMAIL, name="TA", role="ta", password_hash=hash_password(TA_PASSWORD)))
            session.commit()
            course_id = course.id
        figures: dict[int, tuple[float, int]] = {}
        with serve_in_thread(create_app(settings, database, reconcile=False)) as url, \
                httpx.Client(base_url=url, timeout=120) as http:
            _sign_in(http)
            seeded = 0
            for students in sorted(student_counts):
                started = time.monotonic()
                with database.session() as session:
                    seed_gradebook(session, course_id, assignment_ids, students - seeded, submissions, seed=students)
                seeded = students
                seeding_s = time.monotonic() - started
                figures[students] = _measure_dashboard(http, database, students)
                render_ms, queries = figures[students]
                print(f"dashboard: {students} students x {assignments} assignments x {submissions} submissions "
                      f"(seeded in {seeding_s:.1f} s): {render_ms:.0f} ms to render (median of {RENDERS}), {queries} SQL statements")
    (fewest, few), (most, many) = min(figures.items()), max(figures.items())
    print(f"dashboard: {most / fewest:g}x the students, {many[1] / few[1]:g}x the SQL statements "
          f"({few[1]} -> {many[1]}); {'constant' if many[1] == few[1] else 'GROWS with the students'}")


def _sign_in(http: httpx.Client) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text)
    assert token is not None
    response = http.post("/login", data={"email": TA_EMAIL, "password": TA_PASSWORD, "csrf_token": token.group(1)})
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")


def _measure_dashboard(http: httpx.Client, database: Database, students: int) -> tuple[float, int]:
    """(median render ms, SQL statements of one render); checks every student is on the page."""
    times = []
    for _ in range(RENDERS):
        with counting_statements(database.engine) as statements:
            started = time.perf_counter()
            response = http.get("/staff/dashboard")
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200 or response.text.count("<tr data-student=") != students:
            raise RuntimeError(f"the dashboard is wrong: {response.status_code}, {response.text.count('<tr data-student=')} rows")
    return statistics.median(times), len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--students", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--assignments", type=int, default=5)
    parser.add_argument("--submissions", type=int, default=10, help="per student and assignment")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dgm-bench-") as scratch:
        bench_uploads(Path(scratch) / "uploads", args.uploads, args.clients)
        bench_dashboard(Path(scratch) / "dashboard", args.students, args.assignments, args.submissions)


if __name__ == "__main__":
    main()
