"""Throwaway infrastructure for the service tests and benchmarks: a scratch PostgreSQL database, the
app served by a real uvicorn server on a free port in a background thread, and a gradebook's worth
of students and submissions inserted in bulk."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import uvicorn
from fastapi import FastAPI
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .db import utcnow
from .models import Enrollment, Submission, User

START_TIMEOUT_S = 30.0


@contextmanager
def scratch_database(admin_url: str, prefix: str = "dgm_scratch") -> Iterator[str]:
    """A new, empty database on the server of ``admin_url`` (a libpq URL of a role that may create
    databases); yields its SQLAlchemy URL and drops it afterwards, whatever is still connected."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def serve_in_thread(app: FastAPI, host: str = "127.0.0.1") -> Iterator[str]:
    """``app`` behind uvicorn on a port the kernel picks (no race for a "free" port); yields its URL."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the uvicorn server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT_S)


def seed_gradebook(session: Session, course_id: int, assignment_ids: list[int], students: int,
                   submissions_each: int, seed: int = 0) -> list[int]:
    """``students`` new students enrolled in the course, each with ``submissions_each`` submissions
    of every assignment (graded with random scores, the last one of some still queued), inserted in
    bulk; returns the students' ids."""
    rng = random.Random(seed)
    batch = uuid.uuid4().hex[:8]
    user_ids = list(session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
        {"email": f"student-{batch}-{i}@scratch.local", "name": f"Student {batch} {i:05d}", "role": "student"}
        for i in range(students)
    ]))
    session.execute(insert(Enrollment), [{"course_id": course_id, "user_id": user_id} for user_id in user_ids])
    now = utcnow()
    rows = []
    for user_id in user_ids:
        for assignment_id in assignment_ids:
            for number in range(1, submissions_each + 1):
                queued = number == submissions_each and rng.random() < 0.1
                late = rng.random() < 0.2
                rows.append({
                    "assignment_id": assignment_id, "user_id": user_id, "number": number,
                    "created_at": now - timedelta(minutes=submissions_each - number), "filename": "answers.yaml",
                    "stored_path": "/nonexistent", "file_sha256": "0" * 64, "size_bytes": 1,
                    "late_days": 1 if late else 0, "late_penalty": 0.1 if late else 0.0,
                    "status": "queued" if queued else "graded", "auto_score": None if queued else float(rng.randint(0, 40)),
                    "max_score": None if queued else 40.0, "manual_score": 0.0,
                })
    session.execute(insert(Submission), rows)
    session.commit()
    return user_ids
