"""The embedded mode's demo course: every homework in ``test_suites/``, one account per role, and a
few HW1 example submissions sent to the queue the first time."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader_core.config import PROJECT_ROOT, Settings
from grader_core.intake import zip_folder
from grader_core.suite import load_suite

from ..db import utcnow
from ..models import ROLES, Assignment, Course, Enrollment, Submission, User
from ..security import hash_password
from .assignments import create_assignment, get_or_create_course
from .submissions import store_upload, submit
from .suites import SUITES_DIR

log = logging.getLogger(__name__)

COURSE_CODE = "DGM-DEMO"
DUE_IN = timedelta(days=14)
EXAMPLES = PROJECT_ROOT / "assignments" / "hw1" / "examples"
EXAMPLE_ASSIGNMENT = "hw1"
MAX_EXAMPLES = 3


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str


def seed(session: Session, settings: Settings, passwords_file: Path) -> list[DemoAccount]:
    """Idempotent: adds what is missing (a homework added since the last start, say) and returns
    the demo accounts with their passwords (kept in ``passwords_file``, readable by the owner only)."""
    course = get_or_create_course(session, COURSE_CODE, "Deep Generative Models (demo)")
    _assignments(session, course, settings)
    accounts = _accounts(session, course, passwords_file)
    session.commit()
    return accounts


def _assignments(session: Session, course: Course, settings: Settings) -> None:
    have = set(session.scalars(select(Assignment.slug).where(Assignment.course_id == course.id)))
    for path in sorted(SUITES_DIR.glob("*.yaml")):
        loaded = load_suite(path)
        if loaded.suite.id not in have:
            create_assignment(session, course, loaded, utcnow() + DUE_IN, settings, None)
            log.info("demo: added %s (%s)", loaded.suite.id, loaded.suite.title)


def _accounts(session: Session, course: Course, passwords_file: Path) -> list[DemoAccount]:
    saved: dict[str, str] = json.loads(passwords_file.read_text()) if passwords_file.exists() else {}
    for role in ROLES:
        email = f"{role}@demo.local"
        user = session.scalar(select(User).where(User.email == email)) or _new_user(session, course.id, email, f"Demo {role}", role)
        if email not in saved or user.password_hash is None:
            saved[email] = secrets.token_urlsafe(9)
            user.password_hash = hash_password(saved[email])
    passwords_file.touch(mode=0o600)
    passwords_file.write_text(json.dumps(saved, indent=1))
    return [DemoAccount(role, f"{role}@demo.local", saved[f"{role}@demo.local"]) for role in ROLES]


def _new_user(session: Session, course_id: int, email: str, name: str, role: str) -> User:
    """Enrolled in the course, without a password (set one to let it sign in)."""
    user = User(email=email, name=name, role=role)
    session.add(user)
    session.flush()
    session.add(Enrollment(course_id=course_id, user_id=user.id))
    session.flush()
    return user


def submit_examples(session: Session, settings: Settings) -> int:
    """The first time only: each HW1 example (up to ``MAX_EXAMPLES``) submitted by a demo student
    of its own, so the TA dashboard has rows; the student account owns the first. Returns how many."""
    if session.scalar(select(func.count()).select_from(Submission)):
        return 0
    assignment = session.scalar(select(Assignment).where(Assignment.slug == EXAMPLE_ASSIGNMENT).order_by(Assignment.id).limit(1))
    if assignment is None or not EXAMPLES.is_dir():
        return 0
    examples = sorted(path for path in EXAMPLES.iterdir() if path.is_dir())[:MAX_EXAMPLES]
    for index, example in enumerate(examples):
        student = _example_student(session, assignment.course_id, example.name, first=index == 0)
        stored = store_upload([zip_folder(example)], f"{example.name}.zip", settings, settings.max_upload_bytes)
        submit(session, assignment, student, stored, settings)
        log.info("demo: submitted the %s example of %s as %s", example.name, EXAMPLE_ASSIGNMENT, student.email)
    return len(examples)


def _example_student(session: Session, course_id: int, example: str, first: bool) -> User:
    email = "student@demo.local" if first else f"student-{example.replace('_', '-')}@demo.local"
    return session.scalar(select(User).where(User.email == email)) or _new_user(
        session, course_id, email, f"Demo student ({example})", "student")

