"""The grade dashboard, its CSV export, and per-assignment statistics. A fixed number of queries
whatever the number of students: rows are fetched flat and assembled here."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..models import Assignment, Enrollment, GradingRun, Submission, TestResultRow, User, final_score


@dataclass
class Cell:
    score: float | None = None
    max_score: float | None = None
    late_days: int = 0
    submission_id: int | None = None
    submissions: int = 0
    status: str | None = None


@dataclass
class Gradebook:
    assignments: list[Assignment]
    students: list[User]
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)  # (user id, assignment id)

    def cell(self, user_id: int, assignment_id: int) -> Cell:
        return self.cells.get((user_id, assignment_id), Cell())

    def total(self, user_id: int) -> float:
        return sum(self.cell(user_id, a.id).score or 0.0 for a in self.assignments)


def course_assignments(session: Session, course_id: int) -> list[Assignment]:
    return list(session.scalars(select(Assignment).where(Assignment.course_id == course_id).order_by(Assignment.due_at, Assignment.id)))


def gradebook(session: Session, course_id: int) -> Gradebook:
    assignments = course_assignments(session, course_id)
    students = list(session.scalars(
        select(User).join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.course_id == course_id, User.role == "student").order_by(User.name, User.id)
    ))
    book = Gradebook(assignments, students)
    policy = {a.id: a.grade_policy for a in assignments}
    # Plain rows, not ORM objects: the page reads every submission of the course (25,000 for 500
    # students), and building entities for them costs ten times the query.
    rows = session.execute(
        select(Submission.id, Submission.user_id, Submission.assignment_id, Submission.status, Submission.auto_score,
               Submission.manual_score, Submission.late_penalty, Submission.late_days, Submission.max_score)
        .join(Assignment).where(Assignment.course_id == course_id).order_by(Submission.created_at, Submission.id)
    )
    for row in rows:
        cell = book.cells.setdefault((row.user_id, row.assignment_id), Cell())
        cell.submissions += 1
        score = final_score(row.auto_score, row.manual_score, row.late_penalty)
        if score is None:
            cell.status = cell.status or row.status
            continue
        better = policy[row.assignment_id] == "latest" or cell.score is None or score >= cell.score
        if better:
            cell.score, cell.max_score = score, row.max_score
            cell.late_days, cell.submission_id, cell.status = row.late_days, row.id, row.status
    return book


def gradebook_csv(book: Gradebook) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", *(a.slug for a in book.assignments), *(f"{a.slug}_late_days" for a in book.assignments), "total"])
    for student in book.students:
        cells = [book.cell(student.id, a.id) for a in book.assignments]
        writer.writerow([
            _safe_cell(student.email), _safe_cell(student.name),
            *("" if c.score is None else f"{c.score:g}" for c in cells), *(c.late_days for c in cells),
            f"{book.total(student.id):g}",
        ])
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """No spreadsheet formulas from student-controlled text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass
class AssignmentStats:
    histogram: list[tuple[str, int]]  # (bin label, students)
    pass_rates: list[tuple[str, str, float, int]]  # (test id, title, pass rate, runs)
    students_graded: int


def assignment_stats(session: Session, assignment: Assignment, book: Gradebook, bins: int = 10) -> AssignmentStats:
    scores = [c.score for (_, a_id), c in book.cells.items() if a_id == assignment.id and c.score is not None]
    top = max([c.max_score or 0.0 for (_, a_id), c in book.cells.items() if a_id == assignment.id] + [1.0])
    counts = [0] * bins
    for score in scores:
        counts[min(bins - 1, int(bins * score / top))] += 1
    histogram = [(f"{top * i / bins:g}–{top * (i + 1) / bins:g}", n) for i, n in enumerate(counts)]
    latest = (
        select(func.max(GradingRun.id)).join(Submission)
        .where(Submission.assignment_id == assignment.id, GradingRun.status == "graded")
        .group_by(GradingRun.submission_id)
    )
    rows = session.execute(
        select(TestResultRow.test_id, func.min(TestResultRow.title), func.min(TestResultRow.position),
               func.count(), func.sum(case((TestResultRow.status == "passed", 1), else_=0)))
        .where(TestResultRow.run_id.in_(latest)).group_by(TestResultRow.test_id)
    ).all()
    rates = sorted(((r[0], r[1], (r[4] or 0) / r[3], r[3], r[2]) for r in rows), key=lambda r: r[4])
    return AssignmentStats(histogram, [r[:4] for r in rates], len(scores))

