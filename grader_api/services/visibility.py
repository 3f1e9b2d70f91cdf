"""What a student may see of a run: Gradescope's visibility rules, applied on the server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models import Assignment, TestResultRow


def visible_to_student(visibility: str, assignment: Assignment, now: datetime) -> bool:
    if visibility == "visible":
        return True
    if visibility == "after_due_date":
        return now >= assignment.due_at
    if visibility == "after_published":
        return assignment.results_published
    return False  # hidden: never the details


@dataclass(frozen=True)
class StudentScore:
    score: float
    max_score: float
    withheld_tests: int  # tests whose results are not shown yet (or never, for hidden ones)


def student_tests(tests: list[TestResultRow], assignment: Assignment, now: datetime) -> list[TestResultRow]:
    return [test for test in tests if visible_to_student(test.visibility, assignment, now)]


def student_score(tests: list[TestResultRow], assignment: Assignment, now: datetime) -> StudentScore:
    """Once results are published, the full score (hidden tests count, unseen); before, only what is shown."""
    shown = tests if assignment.results_published else student_tests(tests, assignment, now)
    withheld = len(tests) - len(student_tests(tests, assignment, now))
    return StudentScore(sum(t.score for t in shown), sum(t.max_score for t in shown), withheld)
