"""Grading manual tests with their rubric items."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader_core.checks.manual import ManualParams
from grader_core.suite import LoadedSuite, TestSpec

from ..models import ManualGrade, Submission, User
from .audit import record
from .submissions import SubmissionRefused, latest_run
from .suites import load_version


def manual_tests(loaded: LoadedSuite) -> list[tuple[TestSpec, ManualParams]]:
    return [(test, ManualParams.model_validate(test.params)) for test in loaded.suite.tests if test.check == "manual"]


def grades_of(session: Session, submission_id: int) -> dict[str, ManualGrade]:
    return {g.test_id: g for g in session.scalars(select(ManualGrade).where(ManualGrade.submission_id == submission_id))}


def graded_suite(session: Session, submission: Submission) -> LoadedSuite:
    """The suite a submission's manual tests come from: its latest run's, else the assignment's current one."""
    run = latest_run(session, submission.id)
    version = run.suite_version if run else submission.assignment.current_suite
    if version is None:
        raise SubmissionRefused(409, "this assignment has no published test suite yet")
    return load_version(version)


def save_grade(session: Session, submission: Submission, test_id: str, items: dict[str, float], comment: str,
               grader: User) -> ManualGrade:
    found = {test.id: (test, params) for test, params in manual_tests(graded_suite(session, submission))}
    if test_id not in found:
        raise SubmissionRefused(404, f"no manual test {test_id!r} in this suite")
    test, params = found[test_id]
    awarded: dict[str, float] = {}
    for item in params.rubric:
        points = float(items.get(item.id, 0.0))
        if not 0.0 <= points <= item.points:
            raise SubmissionRefused(422, f"rubric item {item.id!r} is worth 0 to {item.points:g} points")
        awarded[item.id] = points
    unknown = set(items) - set(awarded)
    if unknown:
        raise SubmissionRefused(422, f"unknown rubric items: {', '.join(sorted(unknown))}")
    score = min(test.points, sum(awarded.values()))
    grade = session.scalar(select(ManualGrade).where(ManualGrade.submission_id == submission.id, ManualGrade.test_id == test_id))
    if grade is None:
        grade = ManualGrade(submission_id=submission.id, test_id=test_id, grader_id=grader.id, items=awarded, score=score, comment=comment)
        session.add(grade)
    else:
        grade.items, grade.score, grade.comment, grade.grader_id = awarded, score, comment, grader.id
    session.flush()
    submission.manual_score = session.scalar(
        select(func.coalesce(func.sum(ManualGrade.score), 0.0)).where(ManualGrade.submission_id == submission.id)) or 0.0
    record(session, grader, "manual_grade", f"submission:{submission.id}", {"test": test_id, "items": awarded, "score": score})
    return grade
