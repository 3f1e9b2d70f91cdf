"""The JSON API (``/api/v1``): everything the pages do, for scripts and the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, PlainTextResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..deps import DB, ApiInstructor, ApiStaff, ApiUser, AppSettings, client_ip
from ..models import Course, Submission
from ..schemas import (
    ERROR_RESPONSES, AssignmentOut, AssignmentStatsOut, GradebookOut, Identifier, ManualGradeIn, PublishIn, PublishOut,
    QueueOut, RegradeOut, RosterOut, RowId, Slug, SubmissionOut, SuiteCheckOut, TokenInfoOut, TokenOut, TokenRequest,
    UserOut,
)
from ..services import gradebook as gradebook_service
from ..services import auth, manual, monitor, roster, submissions, suite_workflow, views
from ..services.answers import answers_yaml
from ..services.assignments import AssignmentSettings, update_settings
from ..services.suites import load_version
from .common import UPLOAD_BODY, submit_file

router = APIRouter(prefix="/api/v1", tags=["api"], responses=ERROR_RESPONSES)

T = TypeVar("T")


def _released(session: Session, value: T) -> T:
    """End the read transaction in the endpoint's thread: FastAPI validates the response in
    another pool thread, and a connection held across that wait deadlocks the pool under load."""
    session.rollback()
    return value


@router.post("/tokens", response_model=TokenOut)
def create_token(body: TokenRequest, request: Request, session: DB, settings: AppSettings) -> TokenOut:
    """Trade an email and password for an API token (``dgm-grader submit`` uses it); 429 after too
    many failed sign-ins to the account or from the address."""
    try:
        user = auth.sign_in(session, body.email, body.password, client_ip(request), settings)
    except auth.SignInRefused as refused:
        retry = {"Retry-After": str(refused.retry_after_s)} if refused.retry_after_s is not None else None
        raise HTTPException(refused.status_code, str(refused), headers=retry) from None
    token, api_token = auth.create_api_token(session, user, body.name)
    return TokenOut(token=token, id=api_token.id, expires_at=auth.api_token_expires_at(api_token, settings))


@router.get("/tokens", response_model=list[TokenInfoOut])
def list_tokens(user: ApiUser, session: DB, settings: AppSettings) -> list[TokenInfoOut]:
    """Your API tokens, for finding the one to revoke."""
    return _released(session, [
        TokenInfoOut(id=t.id, name=t.name, created_at=t.created_at, last_used_at=t.last_used_at,
                     expires_at=auth.api_token_expires_at(t, settings))
        for t in auth.api_tokens_of(session, user)])


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: RowId, user: ApiUser, session: DB) -> None:
    """Revoke one of your own API tokens (the one sending this request too, if it is that one)."""
    if not auth.revoke_api_token(session, user, token_id):
        raise HTTPException(404, "no such token")


@router.get("/me", response_model=UserOut)
def me(user: ApiUser) -> UserOut:
    return views.user_out(user)


@router.get("/assignments", response_model=list[AssignmentOut])
def list_assignments(user: ApiUser, session: DB) -> list[AssignmentOut]:
    return [views.assignment_out(session, a, user) for a in views.assignments_for(session, user)]


@router.post("/assignments/{slug}/submissions", response_model=SubmissionOut, status_code=201, openapi_extra=UPLOAD_BODY)
async def submit_upload(slug: Slug, request: Request, user: ApiUser, session: DB, settings: AppSettings) -> SubmissionOut:
    """The multipart field ``file``: a .zip, or one .py/.yaml/.ipynb file."""
    run = await submit_file(request, session, slug, user, settings)
    return await run_in_threadpool(lambda: _released(session, views.submission_out(session, run.submission, user)))


@router.post("/assignments/{slug}/answers", response_model=SubmissionOut, status_code=201)
def submit_answers(slug: Slug, answers: dict[str, str], user: ApiUser, session: DB, settings: AppSettings) -> SubmissionOut:
    """Answer-only homework: the answers by key (``{"q1.alpha": "1/(2*pi)"}``), as the generated form sends."""
    assignment = views.find_assignment(session, slug, user)
    spec = load_version(assignment.current_suite).suite.submission if assignment.current_suite else None
    if spec is None or not spec.answers_file or not spec.answers:
        raise HTTPException(409, "this assignment takes a file upload, not a form")
    limit = submissions.admit_upload(session, assignment, user, settings)
    data = answers_yaml(spec.answers, answers)
    run = submissions.submit_upload(session, assignment, user, [data], spec.answers_file, settings, limit)
    return _released(session, views.submission_out(session, run.submission, user))


@router.get("/submissions", response_model=list[SubmissionOut])
def my_submissions(user: ApiUser, session: DB) -> list[SubmissionOut]:
    mine = session.scalars(select(Submission).where(Submission.user_id == user.id).order_by(Submission.id.desc()))
    return [views.submission_out(session, s, user) for s in mine]


@router.get("/submissions/{submission_id}", response_model=SubmissionOut)
def get_submission(submission_id: RowId, user: ApiUser, session: DB) -> SubmissionOut:
    return _released(session, views.submission_out(session, views.find_submission(session, submission_id, user), user))


@router.get("/artifacts/{artifact_id}", response_class=FileResponse)
def get_artifact(artifact_id: RowId, user: ApiUser, session: DB) -> FileResponse:
    artifact = views.find_artifact(session, artifact_id, user)
    return FileResponse(Path(artifact.path), media_type=artifact.content_type)


# --- staff ---------------------------------------------------------------------------------------

# Not response_class=PlainTextResponse: FastAPI would then declare the errors, which are JSON, as text.
@router.get("/gradebook.csv",
            responses={200: {"description": "one row per student", "content": {"text/csv": {"schema": {"type": "string"}}}}})
def gradebook_csv(course_id: RowId, user: ApiStaff, session: DB) -> PlainTextResponse:
    book = gradebook_service.gradebook(session, course_id)
    return PlainTextResponse(gradebook_service.gradebook_csv(book), media_type="text/csv")


@router.get("/courses/{course_id}/gradebook", response_model=GradebookOut)
def gradebook(course_id: RowId, user: ApiStaff, session: DB) -> GradebookOut:
    """The TA dashboard's data: every enrolled student x every assignment, by each assignment's grade policy."""
    if session.get(Course, course_id) is None:
        raise HTTPException(404, "no such course")
    return _released(session, views.gradebook_out(course_id, gradebook_service.gradebook(session, course_id)))


@router.get("/assignments/{slug}/stats", response_model=AssignmentStatsOut)
def assignment_stats(slug: Slug, user: ApiStaff, session: DB) -> AssignmentStatsOut:
    """The score histogram and per-test pass rates of an assignment."""
    assignment = views.find_assignment(session, slug, user)
    book = gradebook_service.gradebook(session, assignment.course_id)
    return _released(session, views.assignment_stats_out(assignment, gradebook_service.assignment_stats(session, assignment, book)))


@router.get("/queue", response_model=QueueOut)
def queue(user: ApiStaff, session: DB) -> QueueOut:
    state = monitor.queue_monitor(session)
    return QueueOut(depth=state.depth, running=[views.run_out(session, r) for r in state.running],
                    percentiles_s=state.percentiles, failures=[views.run_out(session, r) for r in state.failures],
                    workers=[vars(w) for w in state.workers])


@router.post("/submissions/{submission_id}/regrade", response_model=RegradeOut)
def regrade_one(submission_id: RowId, user: ApiStaff, session: DB) -> RegradeOut:
    submission = views.find_submission(session, submission_id, user)
    return RegradeOut(run_ids=[r.id for r in submissions.regrade(session, [submission], user)])


@router.post("/assignments/{slug}/regrade", response_model=RegradeOut)
def regrade_many(slug: Slug, user: ApiStaff, session: DB, student_id: RowId | None = None) -> RegradeOut:
    """Every submission of the assignment, or of one student when ``student_id`` is given."""
    assignment = views.find_assignment(session, slug, user)
    query = select(Submission).where(Submission.assignment_id == assignment.id)
    if student_id is not None:
        query = query.where(Submission.user_id == student_id)
    return RegradeOut(run_ids=[r.id for r in submissions.regrade(session, session.scalars(query).all(), user)])


@router.post("/submissions/{submission_id}/manual-grades/{test_id}", response_model=SubmissionOut)
def grade_manually(submission_id: RowId, test_id: Identifier, body: ManualGradeIn, user: ApiStaff, session: DB) -> SubmissionOut:
    submission = views.find_submission(session, submission_id, user)
    manual.save_grade(session, submission, test_id, body.items, body.comment, user)
    session.commit()
    return views.submission_out(session, submission, user)


# --- instructors ---------------------------------------------------------------------------------

@router.post("/suites/check", response_model=SuiteCheckOut)
def check_suite(yaml_text: Annotated[str, Form()], user: ApiInstructor, session: DB, settings: AppSettings) -> SuiteCheckOut:
    """Validate (errors with line numbers, at once); a valid suite's reference solution is then
    dry-run on a worker: poll ``GET /suites/checks/{check_id}``."""
    return suite_workflow.check(session, yaml_text, settings, user)


@router.get("/suites/checks/{check_id}", response_model=SuiteCheckOut)
def suite_check_status(check_id: RowId, user: ApiInstructor, session: DB) -> SuiteCheckOut:
    return _released(session, suite_workflow.check_out(suite_workflow.find_check(session, check_id)))


@router.post("/suites/publish", response_model=PublishOut)
def publish_suite(body: PublishIn, user: ApiInstructor, session: DB, settings: AppSettings) -> PublishOut:
    """Publish the text of a dry run that earned every automatic point, as the assignment's next version."""
    version, slug = suite_workflow.publish_checked(session, body.check_id, settings, user)
    return PublishOut(assignment=slug, version=version.number, sha256=version.sha256)


@router.put("/assignments/{slug}/settings", response_model=AssignmentOut)
def edit_settings(slug: Slug, body: AssignmentSettings, user: ApiInstructor, session: DB) -> AssignmentOut:
    assignment = views.find_assignment(session, slug, user)
    update_settings(session, assignment, body, user)
    session.commit()
    return views.assignment_out(session, assignment, user)


@router.post("/courses/{course_id}/roster", response_model=RosterOut)
def import_roster(course_id: RowId, csv_text: Annotated[str, Form()], user: ApiInstructor, session: DB) -> RosterOut:
    course = session.get(Course, course_id)
    if course is None:
        raise HTTPException(404, "no such course")
    outcome = roster.import_roster(session, course, csv_text, user)
    session.commit()
    return RosterOut(created=outcome.created, enrolled=outcome.enrolled, errors=outcome.errors)
