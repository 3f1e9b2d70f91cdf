"""Importing the roster from CSV: ``email,name[,role][,password]``; new accounts get a one-time password."""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ROLES, Course, Enrollment, User
from ..security import hash_password
from .audit import record

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")  # one "@" with something on each side; the mail server judges the rest


@dataclass
class RosterImport:
    created: list[tuple[str, str]] = field(default_factory=list)  # (email, one-time password)
    enrolled: int = 0
    errors: list[str] = field(default_factory=list)  # "line N: message"


def import_roster(session: Session, course: Course, text: str, actor: User | None) -> RosterImport:
    """``actor`` is None for the command line's ``dgm-grader course create`` (no one is signed in)."""
    outcome = RosterImport()
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"email", "name"} <= {name.strip().lower() for name in reader.fieldnames}:
        outcome.errors.append("line 1: the header must name at least the columns email and name")
        return outcome
    enrolled = set(session.scalars(select(Enrollment.user_id).where(Enrollment.course_id == course.id)))
    for row in reader:
        line = reader.line_num  # the file's line, which counting rows misses past a blank line or a quoted newline
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        email, name = row.get("email", "").lower(), row.get("name", "")
        role = (row.get("role") or "student").lower()  # spreadsheets write "TA"
        # Say which of the two is wrong: "needs an email" on a row that has one sends the instructor
        # looking for a missing cell rather than at the typo.
        if not _EMAIL.fullmatch(email):
            outcome.errors.append(f"line {line}: {email!r} is not an email address" if email else f"line {line}: no email")
            continue
        if not name:
            outcome.errors.append(f"line {line}: no name for {email}")
            continue
        if role not in ROLES:
            outcome.errors.append(f"line {line}: unknown role {role!r} (one of {', '.join(ROLES)})")
            continue
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            password = row.get("password") or secrets.token_urlsafe(9)
            user = User(email=email, name=name, role=role, password_hash=hash_password(password))
            session.add(user)
            session.flush()
            outcome.created.append((email, password))
        if user.id not in enrolled:
            session.add(Enrollment(course_id=course.id, user_id=user.id))
            enrolled.add(user.id)
            outcome.enrolled += 1
    record(session, actor, "roster.import", f"course:{course.id}",
           {"created": [email for email, _ in outcome.created], "enrolled": outcome.enrolled, "errors": len(outcome.errors)})
    return outcome
