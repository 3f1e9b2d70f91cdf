"""An instructor's suite: validate (errors by line) → dry run on the reference (must earn every
automatic point) → publish as a new version. A signed ticket carries "this exact text passed"
from the dry run to the publish step."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_core.config import Settings
from grader_core.intake import IntakeError
from grader_core.suite import SuiteError

from ..db import utcnow
from ..models import Assignment, Course, SuiteVersion, User
from ..schemas import SuiteCheckOut, SuiteIssueOut
from ..security import Tickets
from .assignments import create_assignment
from .submissions import SubmissionRefused
from .suites import check_limits, dry_run, parse, passes, publish

log = logging.getLogger(__name__)

DEFAULT_DUE_IN = timedelta(days=14)


def check(yaml_text: str, settings: Settings, tickets: Tickets) -> SuiteCheckOut:
    try:
        loaded = parse(yaml_text)
        check_limits(loaded, settings)
    except SuiteError as exc:
        return SuiteCheckOut(valid=False, issues=[SuiteIssueOut(line=i.line, message=i.message) for i in exc.issues])
    try:
        result = dry_run(loaded, settings)
    except SuiteError as exc:
        return SuiteCheckOut(valid=True, suite_id=loaded.suite.id, issues=[SuiteIssueOut(line=i.line, message=i.message) for i in exc.issues])
    except IntakeError as exc:
        return SuiteCheckOut(valid=True, suite_id=loaded.suite.id, issues=[SuiteIssueOut(line=1, message=f"the reference solution is rejected: {exc}")])
    ok = passes(result)
    return SuiteCheckOut(
        valid=True, issues=[], suite_id=loaded.suite.id, dry_run_score=result.score,
        automatic_max_score=result.automatic_max_score, dry_run_passed=ok,
        failing_tests=[f"{t.id}: {t.feedback}" for t in result.tests if t.status not in ("passed", "pending")],
        publish_ticket=tickets.issue({"sha256": loaded.sha256, "score": result.score}) if ok else None,
    )


def publish_checked(session: Session, yaml_text: str, ticket: str, settings: Settings, tickets: Tickets,
                    actor: User) -> tuple[SuiteVersion, str]:
    claim = tickets.read(ticket)
    try:
        loaded = parse(yaml_text)
    except SuiteError as exc:
        raise SubmissionRefused(422, str(exc)) from None
    if claim is None or claim.get("sha256") != loaded.sha256:
        raise SubmissionRefused(409, "this suite text has not passed a dry run (or the ticket expired); check it again")
    assignment = session.scalar(select(Assignment).where(Assignment.slug == loaded.suite.id).order_by(Assignment.id).limit(1))
    if assignment is None:
        course = session.scalars(select(Course).order_by(Course.id)).first()
        if course is None:
            raise SubmissionRefused(409, "create a course first")
        assignment = create_assignment(session, course, loaded, utcnow() + DEFAULT_DUE_IN, settings, actor, claim["score"])
        version = assignment.current_suite
    else:
        version = publish(session, assignment, loaded, settings, actor, claim["score"])
    session.commit()
    assert version is not None
    return version, assignment.slug
