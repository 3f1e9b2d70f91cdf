"""Importing the roster from CSV: ``email,name[,role][,password]``; new accounts get a one-time password."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_core.quoting import quoted

from ..models import ROLES, Course, Enrollment, User
from ..security import hash_password
from .audit import record

_EMAIL = re.compile(r"[^@\s\x00]+@[^@\s\x00]+")  # one "@" with something on each side; the mail server judges the rest
_MAX_EMAIL = User.__table__.c.email.type.length
_MAX_NAME = User.__table__.c.name.type.length
MAX_ERRORS = 100


@dataclass
class RosterImport:
    created: list[tuple[str, str]] = field(default_factory=list)  # (email, one-time password)
    enrolled: int = 0
    errors: list[str] = field(default_factory=list)  # "line N: message"


def import_roster(session: Session, course: Course, text: str, actor: User | None) -> RosterImport:
    """``actor`` is None for the command line's ``dgm-grader course create`` (no one is signed in)."""
    outcome = RosterImport()
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames
    except csv.Error:  # a header cell past the csv module's size limit
        header = None
    if not header or not {"email", "name"} <= {name.strip().lower() for name in header}:
        outcome.errors.append("line 1: the header must name at least the columns email and name")
        return outcome
    enrolled = set(session.scalars(select(Enrollment.user_id).where(Enrollment.course_id == course.id)))
    for line, row in _rows(reader, outcome.errors):
        email, name = row.get("email", "").lower(), row.get("name", "")
        role = (row.get("role") or "student").lower()  # spreadsheets write "TA"
        # Say which of the two is wrong: "needs an email" on a row that has one sends the instructor
        # looking for a missing cell rather than at the typo.
        if not _EMAIL.fullmatch(email) or len(email) > _MAX_EMAIL:
            outcome.errors.append(f"line {line}: {quoted(email)} is not an email address" if email else f"line {line}: no email")
            continue
        if not name or "\x00" in name or len(name) > _MAX_NAME:
            problem = "no name" if not name else f"a name of at most {_MAX_NAME} characters, without NUL characters, is needed"
            outcome.errors.append(f"line {line}: {problem} for {email}")
            continue
        if role not in ROLES:
            outcome.errors.append(f"line {line}: unknown role {quoted(role)} (one of {', '.join(ROLES)})")
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
    if len(outcome.errors) > MAX_ERRORS:
        outcome.errors[MAX_ERRORS:] = [f"and {len(outcome.errors) - MAX_ERRORS} more lines with problems"]
    return outcome


def _rows(reader: csv.DictReader[str], errors: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row, keys lowercased and cells stripped, with the file's line it ends on (which counting
    rows misses past a blank line or a quoted newline); stops at a line the csv module cannot read."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell past the csv module's size limit
            errors.append(f"line {reader.line_num}: not readable as CSV ({exc})")
            return
        # Cells past the header's columns come under the key None, as a list: ignored.
        yield reader.line_num, {k.strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
