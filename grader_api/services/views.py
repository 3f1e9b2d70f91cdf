"""Submissions as a viewer may see them: students get their visible tests only; staff get all, with logs."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import Artifact, Assignment, Enrollment, GradingRun, Submission, User, final_score
from ..schemas import (
    AnswerField, ArtifactOut, AssignmentOut, AssignmentStatsOut, GradebookCellOut, GradebookOut, GradebookRowOut,
    HistogramBinOut, ManualGradeOut, PassRateOut, RunOut, SubmissionOut, TestOut, UserOut,
)
from .gradebook import AssignmentStats, Gradebook
from .manual import grades_of
from .submissions import SubmissionRefused, latest_run, queue_position
from .suites import load_version
from .visibility import student_score, student_tests, visible_to_student


def _assignments_of(viewer: User) -> Select[Assignment]:
    """Staff see every course's assignments; a student only those of the courses they are enrolled in."""
    query = select(Assignment)
    if not viewer.is_staff:
        query = query.where(Assignment.course_id.in_(select(Enrollment.course_id).where(Enrollment.user_id == viewer.id)))
    return query


def assignments_for(session: Session, viewer: User) -> list[Assignment]:
    return list(session.scalars(_assignments_of(viewer).order_by(Assignment.due_at, Assignment.id)))


def find_assignment(session: Session, slug: str, viewer: User) -> Assignment:
    """An assignment ``viewer`` may see; anyone else is told it does not exist."""
    assignment = session.scalar(_assignments_of(viewer).where(Assignment.slug == slug).order_by(Assignment.id).limit(1))
    if assignment is None:
        raise SubmissionRefused(404, f"no assignment {slug!r}")
    return assignment


def find_submission(session: Session, submission_id: int, viewer: User) -> Submission:
    """Owners and staff only; anyone else is told it does not exist."""
    submission = session.get(Submission, submission_id)
    if submission is None or (submission.user_id != viewer.id and not viewer.is_staff):
        raise SubmissionRefused(404, "no such submission")
    return submission


def find_artifact(session: Session, artifact_id: int, viewer: User) -> Artifact:
    """Staff any; a student only an artifact of their own submission's test they may see now, never
    a log. Anything else is told it does not exist, in the same words whatever the reason, so that
    someone else's artifact cannot be told from one's own hidden one."""
    artifact = session.get(Artifact, artifact_id)
    if artifact is None or not (viewer.is_staff or _student_may_see(session, artifact, viewer)):
        raise SubmissionRefused(404, "no such artifact")
    return artifact


def _student_may_see(session: Session, artifact: Artifact, student: User) -> bool:
    run = session.get_one(GradingRun, artifact.run_id)
    if run.submission.user_id != student.id or artifact.kind == "log":
        return False
    test = next((t for t in run.tests if t.test_id == artifact.test_id), None)
    return test is not None and visible_to_student(test.visibility, run.submission.assignment, utcnow())


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, name=user.name, role=user.role)


def run_out(session: Session, run: GradingRun) -> RunOut:
    return RunOut(id=run.id, kind=run.kind, status=run.status, queue=run.queue, position=queue_position(session, run),
                  attempts=run.attempts, current_stage=run.current_stage, enqueued_at=run.enqueued_at,
                  started_at=run.started_at, finished_at=run.finished_at, error=run.error)


def assignment_out(session: Session, assignment: Assignment, viewer: User) -> AssignmentOut:
    used = session.scalar(select(func.count()).select_from(Submission).where(
        Submission.assignment_id == assignment.id, Submission.user_id == viewer.id)) or 0
    version = assignment.current_suite
    answers = load_version(version).suite.submission.answers if version else []
    return AssignmentOut(
        slug=assignment.slug, title=assignment.title, due_at=assignment.due_at,
        late_penalty_per_day=assignment.late_penalty_per_day, late_days_allowed=assignment.late_days_allowed,
        max_submissions=assignment.max_submissions, submissions_used=used, grade_policy=assignment.grade_policy,
        results_published=assignment.results_published, suite_version=version.number if version else None,
        answers=[AnswerField(key=a.key, label=a.label, kind=a.kind, variables=a.variables) for a in answers],
    )


def submission_out(session: Session, submission: Submission, viewer: User) -> SubmissionOut:
    staff = viewer.is_staff
    assignment = submission.assignment
    run = latest_run(session, submission.id)
    graded = _latest_graded(session, submission.id)
    now = utcnow()
    rows = graded.tests if graded else []
    shown = rows if staff else student_tests(rows, assignment, now)
    visible = student_score(rows, assignment, now)
    score = (graded.score if staff else visible.score) if graded else None
    max_score = (graded.max_score if staff else visible.max_score) if graded else None
    shown_ids = {t.test_id for t in shown}
    artifacts = [a for a in (graded.artifacts if graded else []) if staff or (a.kind != "log" and a.test_id in shown_ids)]
    manual = grades_of(session, submission.id)
    return SubmissionOut(
        id=submission.id, assignment=assignment.slug, user=user_out(submission.user), number=submission.number,
        created_at=submission.created_at, filename=submission.filename, file_sha256=submission.file_sha256,
        status=run.status if run else submission.status, late_days=submission.late_days,
        late_penalty=submission.late_penalty, score=score, max_score=max_score, manual_score=submission.manual_score,
        final_score=final_score(score, submission.manual_score, submission.late_penalty),
        withheld_tests=0 if staff else visible.withheld_tests,
        run=run_out(session, run) if run else None,
        tests=[TestOut(id=t.test_id, title=t.title, status=t.status, score=t.score, max_score=t.max_score,
                       feedback=t.feedback, visibility=t.visibility, metrics=t.metrics.get("items", [])) for t in shown],
        artifacts=[_artifact_out(a) for a in artifacts],
        manual_grades=[ManualGradeOut(test_id=g.test_id, score=g.score, items=g.items, comment=g.comment) for g in manual.values()],
        logs=graded.logs if staff and graded else None,
        environment=graded.environment if staff and graded else None,
    )


def _artifact_out(artifact: Artifact) -> ArtifactOut:
    return ArtifactOut(id=artifact.id, test_id=artifact.test_id, kind=artifact.kind, name=artifact.name,
                       url=f"/api/v1/artifacts/{artifact.id}")


def _latest_graded(session: Session, submission_id: int) -> GradingRun | None:
    return session.scalar(select(GradingRun).where(GradingRun.submission_id == submission_id, GradingRun.status == "graded")
                          .order_by(GradingRun.id.desc()).limit(1))


def gradebook_out(course_id: int, book: Gradebook) -> GradebookOut:
    def cell_out(student: User, assignment: Assignment) -> GradebookCellOut:
        cell = book.cell(student.id, assignment.id)
        return GradebookCellOut(assignment=assignment.slug, score=cell.score, max_score=cell.max_score, late_days=cell.late_days,
                                submission_id=cell.submission_id, submissions=cell.submissions, status=cell.status)

    return GradebookOut(
        course_id=course_id,
        assignments=[a.slug for a in book.assignments],
        rows=[GradebookRowOut(student=user_out(st), cells=[cell_out(st, a) for a in book.assignments], total=book.total(st.id))
              for st in book.students],
    )


def assignment_stats_out(assignment: Assignment, stats: AssignmentStats) -> AssignmentStatsOut:
    return AssignmentStatsOut(
        assignment=assignment.slug,
        students_graded=stats.students_graded,
        histogram=[HistogramBinOut(label=label, students=n) for label, n in stats.histogram],
        pass_rates=[PassRateOut(test_id=t, title=title, pass_rate=rate, runs=runs) for t, title, rate, runs in stats.pass_rates],
    )
