"""The JSON API's types (also what the pages render)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from grader_core.results import Metric

MAX_ID = 2**31 - 1  # PostgreSQL's integer: every id column


def _without_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain a NUL character")  # PostgreSQL cannot store one in a text column
    return text


# Every id a client sends (path, query, form or body): a larger one cannot name a row, and the database
# refuses to compare with it.
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
# Text that reaches the database.
PlainText = Annotated[str, AfterValidator(_without_nul)]
Slug = Annotated[PlainText, Field(max_length=64)]  # an assignment's slug: its suite's id
Identifier = Annotated[str, Field(max_length=100)]  # a test's or a rubric item's id in a suite


class FieldErrorOut(BaseModel):
    loc: list[str | int] = Field(description="where: path, query or body, then the field")
    message: str


class ErrorOut(BaseModel):
    """The body of every error reply of the JSON API."""

    detail: str = Field(description="what went wrong, in a sentence")
    errors: list[FieldErrorOut] = Field(default_factory=list, description="the invalid fields, when the request was invalid (422)")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description} for status, description in {
        400: "malformed request", 401: "not signed in", 403: "not allowed", 404: "not found (or not yours)",
        409: "conflicts with the current state", 413: "too large", 422: "invalid input", 429: "too many requests",
    }.items()
}


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str


class TokenRequest(BaseModel):
    email: PlainText = Field(max_length=254)
    password: str = Field(max_length=1024)
    name: PlainText = Field("command line", max_length=100)


class TokenOut(BaseModel):
    token: str = Field(description="send as 'Authorization: Bearer <token>'; shown once")
    id: int = Field(description="for DELETE /api/v1/tokens/{id}")
    expires_at: datetime


class TokenInfoOut(BaseModel):
    """One of your API tokens (never the token itself: only its SHA-256 is kept)."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime


class AnswerField(BaseModel):
    key: str
    label: str
    kind: str
    variables: list[str]


class AssignmentOut(BaseModel):
    slug: str
    title: str
    due_at: datetime
    late_penalty_per_day: float
    late_days_allowed: int
    max_submissions: int
    submissions_used: int
    grade_policy: str
    results_published: bool
    suite_version: int | None
    answers: list[AnswerField]


class RunOut(BaseModel):
    id: int
    kind: str
    status: str
    queue: str
    position: int | None = Field(description="1 = next to be graded; only while queued")
    attempts: int
    current_stage: str | None
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


class TestOut(BaseModel):
    id: str
    title: str
    status: str
    score: float
    max_score: float
    feedback: str
    visibility: str
    metrics: list[Metric]


class ArtifactOut(BaseModel):
    id: int
    test_id: str | None
    kind: str
    name: str
    url: str


class ManualGradeOut(BaseModel):
    test_id: str
    score: float
    items: dict[str, float]
    comment: str


class SubmissionOut(BaseModel):
    id: int
    assignment: str
    user: UserOut
    number: int
    created_at: datetime
    filename: str
    file_sha256: str
    status: str
    late_days: int
    late_penalty: float
    score: float | None = Field(description="automatic score of the tests this viewer may see (all, once published)")
    max_score: float | None
    manual_score: float
    final_score: float | None = Field(description="(score + manual) x (1 - late penalty)")
    withheld_tests: int
    run: RunOut | None
    tests: list[TestOut]
    artifacts: list[ArtifactOut]
    manual_grades: list[ManualGradeOut]
    logs: str | None = Field(None, description="staff only")
    environment: dict | None = Field(None, description="staff only")  # type: ignore[type-arg]


class RegradeOut(BaseModel):
    run_ids: list[int]


class ManualGradeIn(BaseModel):
    items: dict[Identifier, float] = Field(max_length=100)
    comment: PlainText = Field("", max_length=10_000)


class SuiteIssueOut(BaseModel):
    line: int
    message: str


class MutantVerdictOut(BaseModel):
    id: str
    loses: list[str] = Field(description="the tests this planted bug must lose")
    lost: list[str] = Field(description="the tests it lost")
    problems: list[str] = Field(description="a test it survived or should have kept; empty when the bug is caught as named")


class SuiteCheckOut(BaseModel):
    valid: bool
    issues: list[SuiteIssueOut]
    check_id: int | None = Field(None, description="a valid suite's dry run: poll GET /api/v1/suites/checks/{check_id}")
    status: str | None = Field(None, description="queued | running | done | failed")
    suite_id: str | None = None
    dry_run_score: float | None = None
    automatic_max_score: float | None = None
    dry_run_passed: bool = False
    failing_tests: list[str] = []
    mutants: list[MutantVerdictOut] | None = Field(
        None, description="the planted bugs' verdicts, once the reference earns every point; [] when the suite plants none")
    bundle_sha256: str | None = Field(None, description="the sealed bundle the dry run graded from; publishing stores it")


class PublishIn(BaseModel):
    check_id: RowId = Field(description="a dry run whose reference earned every automatic point; its text is published")


class PublishOut(BaseModel):
    assignment: str
    version: int
    sha256: str


class RosterOut(BaseModel):
    # Not tuple[str, str]: FastAPI writes that in a form OpenAPI 3.1 does not allow.
    created: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(
        description="[email, one-time password] of each account created")
    enrolled: int
    errors: list[str]


class QueueOut(BaseModel):
    depth: dict[str, int]
    running: list[RunOut]
    percentiles_s: dict[str, float]
    failures: list[RunOut]
    workers: list[dict]  # type: ignore[type-arg]


class GradebookCellOut(BaseModel):
    assignment: str
    score: float | None = Field(description="the score the grade policy picks (best or latest), late penalty applied")
    max_score: float | None
    late_days: int
    submission_id: int | None
    submissions: int
    status: str | None


class GradebookRowOut(BaseModel):
    student: UserOut
    cells: list[GradebookCellOut]
    total: float


class GradebookOut(BaseModel):
    course_id: int
    assignments: list[str]
    rows: list[GradebookRowOut]


class HistogramBinOut(BaseModel):
    label: str
    students: int


class PassRateOut(BaseModel):
    test_id: str
    title: str
    pass_rate: float
    runs: int


class AssignmentStatsOut(BaseModel):
    assignment: str
    students_graded: int
    histogram: list[HistogramBinOut]
    pass_rates: list[PassRateOut] = Field(description="per test, over each submission's latest graded run; hardest first")
