"""Courses, assignments and their settings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_core.config import Settings
from grader_core.suite import LoadedSuite
from grader_core.suite.bundle import Bundle

from ..models import Assignment, Course, User
from ..schemas import PlainText
from .audit import record
from .suites import publish


class AssignmentSettings(BaseModel):
    """What an instructor may edit."""

    title: PlainText = Field(min_length=1, max_length=200)
    due_at: datetime
    late_penalty_per_day: float = Field(ge=0, le=1)
    late_days_allowed: int = Field(ge=0, le=365)
    max_submissions: int = Field(ge=1, le=1000)
    grade_policy: str = Field(pattern="^(best|latest)$")
    results_published: bool


def get_or_create_course(session: Session, code: str, title: str) -> Course:
    course = session.scalar(select(Course).where(Course.code == code))
    if course is None:
        course = Course(code=code, title=title)
        session.add(course)
        session.flush()
    return course


def create_assignment(session: Session, course: Course, loaded: LoadedSuite, due_at: datetime, settings: Settings,
                      actor: User | None, dry_run_score: float | None = None, bundle: Bundle | None = None) -> Assignment:
    """A new assignment named after the suite, with the suite published as version 1."""
    assignment = Assignment(course_id=course.id, slug=loaded.suite.id, title=loaded.suite.title, due_at=due_at)
    session.add(assignment)
    session.flush()
    publish(session, assignment, loaded, settings, actor, dry_run_score, bundle)
    return assignment


def update_settings(session: Session, assignment: Assignment, values: AssignmentSettings, actor: User) -> None:
    before = {name: str(getattr(assignment, name)) for name in AssignmentSettings.model_fields}
    for name, value in values.model_dump().items():
        setattr(assignment, name, value)
    record(session, actor, "assignment.settings", f"assignment:{assignment.id}",
           {"before": before, "after": values.model_dump(mode="json")})
