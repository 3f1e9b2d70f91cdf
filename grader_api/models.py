"""The service's data. PostgreSQL is the source of truth; the broker only carries run ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, synonym

from .db import UTCDateTime, utcnow

Role = Literal["student", "ta", "instructor", "admin"]
ROLES: tuple[Role, ...] = ("student", "ta", "instructor", "admin")
STAFF_ROLES: frozenset[str] = frozenset({"ta", "instructor", "admin"})
INSTRUCTOR_ROLES: frozenset[str] = frozenset({"instructor", "admin"})

RunStatus = Literal["queued", "running", "graded", "failed"]
FINISHED: frozenset[str] = frozenset({"graded", "failed"})
RunKind = Literal["first", "resubmission", "regrade"]


def final_score(auto_score: float | None, manual_score: float, late_penalty: float) -> float | None:
    """(automatic + manual) x (1 - late penalty); None until there is an automatic score."""
    if auto_score is None:
        return None
    return round((auto_score + manual_score) * (1.0 - late_penalty), 6)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="student")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_instructor(self) -> bool:
        return self.role in INSTRUCTOR_ROLES


class ApiToken(Base):
    """A bearer token for the command line; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class BrowserSession(Base):
    """A signed-in browser. The cookie carries a random id and only its SHA-256 is stored, so signing
    out (deleting the row) ends the session even for a copy of the cookie."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # forms and unsafe requests of this session echo it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """A sign-in that failed, or is still being checked (a success deletes its row), kept for the
    throttling window; in the database so that every API process counts the same attempts."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"), Index("ix_login_attempts_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))  # long enough for IPv6
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(String(200))


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship()


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))  # the suite id, e.g. "hw1"
    title: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime]
    late_penalty_per_day: Mapped[float] = mapped_column(Float, default=0.1)
    late_days_allowed: Mapped[int] = mapped_column(Integer, default=3)
    max_submissions: Mapped[int] = mapped_column(Integer, default=10)
    grade_policy: Mapped[str] = mapped_column(String(16), default="best")  # best | latest
    results_published: Mapped[bool] = mapped_column(Boolean, default=False)
    current_suite_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("suite_versions.id", use_alter=True, name="fk_assignment_current_suite")
    )

    course: Mapped[Course] = relationship()
    current_suite: Mapped[SuiteVersion | None] = relationship(foreign_keys=[current_suite_version_id])


class SuiteVersion(Base):
    """A suite YAML exactly as published; runs name the version they were graded with."""

    __tablename__ = "suite_versions"
    __table_args__ = (UniqueConstraint("assignment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    yaml_text: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(String(500))  # relative paths in the suite resolve from here
    sha256: Mapped[str] = mapped_column(String(64))
    suite_version: Mapped[str] = mapped_column(String(50))
    queue: Mapped[str] = mapped_column(String(8))  # cpu | gpu, from the stages' resources
    time_limit_s: Mapped[float] = mapped_column(Float)
    dry_run_score: Mapped[float | None] = mapped_column(Float)
    # The sealed bundle this version grades with (grader_core.suite.bundle); versions published
    # before bundles have none and grade from their text and the files on disk.
    bundle: Mapped[bytes | None] = mapped_column(LargeBinary)
    bundle_sha256: Mapped[str | None] = mapped_column(String(64))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class SuiteCheck(Base):
    """An instructor's suite text waiting for, or done with, its dry run on a worker: the reference
    solution must earn every automatic point before the text can be published."""

    __tablename__ = "suite_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    yaml_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    suite_id: Mapped[str] = mapped_column(String(100))
    queue: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    score: Mapped[float | None] = mapped_column(Float)
    automatic_max_score: Mapped[float | None] = mapped_column(Float)
    failing_tests: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The planted bugs' verdicts: [{id, loses, lost, problems}]; None until the reference earns every point.
    mutants: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    bundle: Mapped[bytes | None] = mapped_column(LargeBinary)  # what publishing this check stores, as dry-run
    bundle_sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    # A job like a grading run (see worker.jobs): attempts capped, lost messages published again.
    time_limit_s: Mapped[float] = mapped_column(Float)  # the worker's soft limit for this dry run
    task_id: Mapped[str] = mapped_column(String(64))  # the only broker message allowed to run this check
    claim_token: Mapped[str | None] = mapped_column(String(64))  # the attempt allowed to write the result
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    deadline_at: Mapped[datetime | None] = mapped_column()
    enqueued_at = synonym("requested_at")  # named as on GradingRun, for the code both share

    @property
    def passed(self) -> bool:
        """The reference earns every automatic point and every planted bug loses exactly what it names."""
        return (self.status == "done" and self.score is not None and self.automatic_max_score is not None
                and self.score >= self.automatic_max_score - 1e-9
                and not any(mutant["problems"] for mutant in self.mutants or []))


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_assignment_user", "assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1 for the student's first submission to this assignment
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    late_days: Mapped[int] = mapped_column(Integer, default=0)
    late_penalty: Mapped[float] = mapped_column(Float, default=0.0)  # fraction taken off
    # The latest finished run, denormalized so the gradebook is one query.
    status: Mapped[str] = mapped_column(String(16), default="queued")
    auto_score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    manual_score: Mapped[float] = mapped_column(Float, default=0.0)

    assignment: Mapped[Assignment] = relationship()
    user: Mapped[User] = relationship()

    @property
    def final_score(self) -> float | None:
        return final_score(self.auto_score, self.manual_score, self.late_penalty)


class GradingRun(Base):
    __tablename__ = "grading_runs"
    __table_args__ = (Index("ix_runs_status_queue", "status", "queue", "priority", "enqueued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    suite_version_id: Mapped[int] = mapped_column(ForeignKey("suite_versions.id"))
    kind: Mapped[str] = mapped_column(String(16))  # first | resubmission | regrade
    priority: Mapped[int] = mapped_column(Integer)  # lower runs first
    queue: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    task_id: Mapped[str] = mapped_column(String(64))  # the only broker message allowed to grade this run
    claim_token: Mapped[str | None] = mapped_column(String(64))  # the attempt allowed to write results
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    enqueued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(200))
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    gpu_id: Mapped[str | None] = mapped_column(String(32))
    current_stage: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    automatic_max_score: Mapped[float | None] = mapped_column(Float)
    pending_manual_points: Mapped[float | None] = mapped_column(Float)
    environment: Mapped[dict[str, Any] | None]
    stages: Mapped[dict[str, Any] | None]
    logs: Mapped[str | None] = mapped_column(Text)

    submission: Mapped[Submission] = relationship()
    suite_version: Mapped[SuiteVersion] = relationship()
    tests: Mapped[list[TestResultRow]] = relationship(order_by="TestResultRow.position", cascade="all, delete-orphan")
    artifacts: Mapped[list[Artifact]] = relationship(cascade="all, delete-orphan")

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class TestResultRow(Base):
    __tablename__ = "test_results"
    __test__ = False  # not a pytest class
    __table_args__ = (UniqueConstraint("run_id", "test_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("grading_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    test_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    check: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    feedback: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(20))
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"items": [Metric, ...]}


class Artifact(Base):
    """A file a run produced (a sample grid, the full log), stored under the artifact directory."""

    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("grading_runs.id", ondelete="CASCADE"), index=True)
    test_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # image | log
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(100))


class ManualGrade(Base):
    __tablename__ = "manual_grades"
    __table_args__ = (UniqueConstraint("submission_id", "test_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    test_id: Mapped[str] = mapped_column(String(100))
    grader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    items: Mapped[dict[str, Any]] = mapped_column(JSON)  # rubric item id -> points awarded
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    graded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)
