"""An instructor's suite: validate (errors by line, at once) → dry run of the reference solution on a
worker (it must earn every automatic point) → publish that exact text as a new version."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_core.config import Settings
from grader_core.suite import SuiteError
from grader_core.suite.bundle import Bundle
from worker.queueing import enqueue_dry_run

from ..db import utcnow
from ..models import Assignment, Course, SuiteCheck, SuiteVersion, User
from ..schemas import SuiteCheckOut, SuiteIssueOut
from .assignments import create_assignment
from .submissions import SubmissionRefused
from .suites import check_limits, dry_run_limit_s, parse, publish, require_reference, routing

log = logging.getLogger(__name__)

DEFAULT_DUE_IN = timedelta(days=14)


def check(session: Session, yaml_text: str, settings: Settings, actor: User) -> SuiteCheckOut:
    """Validation errors come back now; a valid suite is queued for its dry run."""
    try:
        loaded = parse(yaml_text)
        check_limits(loaded, settings)
        require_reference(loaded)
        time_limit_s = dry_run_limit_s(loaded)  # reads the mutants file: a broken one is an issue now
    except SuiteError as exc:
        return SuiteCheckOut(valid=False, issues=[SuiteIssueOut(line=i.line, message=i.message) for i in exc.issues])
    route = routing(loaded)
    row = SuiteCheck(yaml_text=loaded.text, sha256=loaded.sha256, suite_id=loaded.suite.id, queue=route.queue,
                     time_limit_s=time_limit_s, task_id=uuid.uuid4().hex, requested_by_id=actor.id)
    session.add(row)
    session.commit()
    enqueue_dry_run(row)  # if the broker cannot take it now, the reconciler publishes it later
    return check_out(row)


def find_check(session: Session, check_id: int) -> SuiteCheck:
    row = session.get(SuiteCheck, check_id)
    if row is None:
        raise SubmissionRefused(404, "no such suite check")
    return row


def check_out(row: SuiteCheck) -> SuiteCheckOut:
    return SuiteCheckOut(
        valid=True, check_id=row.id, status=row.status, suite_id=row.suite_id,
        issues=[SuiteIssueOut(line=1, message=row.error)] if row.error else [],
        dry_run_score=row.score, automatic_max_score=row.automatic_max_score, dry_run_passed=row.passed,
        failing_tests=list(row.failing_tests or []), mutants=row.mutants, bundle_sha256=row.bundle_sha256,
    )


def publish_checked(session: Session, check_id: int, settings: Settings, actor: User) -> tuple[SuiteVersion, str]:
    row = find_check(session, check_id)
    if not row.passed:
        raise SubmissionRefused(409, f"this suite text has not passed its dry run (it is {row.status}); only a text "
                                     "whose reference earns every automatic point, and whose every planted bug loses "
                                     "exactly the tests it names, is published")
    loaded = parse(row.yaml_text)
    bundle = Bundle.from_bytes(row.bundle) if row.bundle else None
    assignment = session.scalar(select(Assignment).where(Assignment.slug == loaded.suite.id).order_by(Assignment.id).limit(1))
    if assignment is None:
        course = session.scalars(select(Course).order_by(Course.id)).first()
        if course is None:
            raise SubmissionRefused(409, "create a course first")
        assignment = create_assignment(session, course, loaded, utcnow() + DEFAULT_DUE_IN, settings, actor, row.score, bundle)
        version = assignment.current_suite
    else:
        version = publish(session, assignment, loaded, settings, actor, row.score, bundle)
    session.commit()
    assert version is not None
    return version, assignment.slug
