"""TA pages: the gradebook, assignment statistics, the queue monitor, any submission with its logs,
regrades, manual grading, CSV export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from ..deps import DB, PageStaff
from ..models import Course, Submission
from ..schemas import Identifier, ManualGradeIn, RowId, Slug
from ..services import gradebook, manual, monitor, submissions, views
from ..services.suites import load_version
from ..templating import templates

router = APIRouter(prefix="/staff", include_in_schema=False)


def _course(session: DB) -> Course:
    course = session.scalars(select(Course).order_by(Course.id)).first()
    if course is None:
        raise submissions.SubmissionRefused(404, "no course yet")
    return course


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, user: PageStaff, session: DB) -> Response:
    course = _course(session)
    book = gradebook.gradebook(session, course.id)
    return templates.TemplateResponse(request, "staff_dashboard.html", {"user": user, "course": course, "book": book})


@router.get("/gradebook.csv")
def gradebook_csv(user: PageStaff, session: DB) -> Response:
    book = gradebook.gradebook(session, _course(session).id)
    return PlainTextResponse(gradebook.gradebook_csv(book), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="gradebook.csv"'})


@router.get("/assignments/{slug}", response_class=HTMLResponse)
def assignment_stats(slug: Slug, request: Request, user: PageStaff, session: DB) -> Response:
    assignment = views.find_assignment(session, slug, user)
    book = gradebook.gradebook(session, assignment.course_id)
    stats = gradebook.assignment_stats(session, assignment, book)
    return templates.TemplateResponse(request, "staff_assignment.html", {"user": user, "assignment": assignment, "stats": stats})


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, user: PageStaff, session: DB) -> Response:
    return templates.TemplateResponse(request, "staff_queue.html", {"user": user, "q": monitor.queue_monitor(session)})


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def submission(submission_id: RowId, request: Request, user: PageStaff, session: DB) -> Response:
    found = views.find_submission(session, submission_id, user)
    run = submissions.latest_run(session, found.id)
    version = run.suite_version if run else found.assignment.current_suite
    rubric = manual.manual_tests(load_version(version)) if version else []
    return templates.TemplateResponse(request, "staff_submission.html", {
        "user": user, "s": views.submission_out(session, found, user), "rubric": rubric,
        "grades": manual.grades_of(session, found.id), "student_id": found.user_id,
    })


@router.post("/submissions/{submission_id}/regrade")
def regrade_one(submission_id: RowId, user: PageStaff, session: DB) -> Response:
    found = views.find_submission(session, submission_id, user)
    submissions.regrade(session, [found], user)
    return RedirectResponse(f"/staff/submissions/{submission_id}", status_code=303)


@router.post("/assignments/{slug}/regrade")
def regrade_many(slug: Slug, user: PageStaff, session: DB, student_id: Annotated[RowId | None, Form()] = None) -> Response:
    """All submissions of the assignment, or one student's (form field ``student_id``; blank for all)."""
    assignment = views.find_assignment(session, slug, user)
    query = select(Submission).where(Submission.assignment_id == assignment.id)
    if student_id is not None:
        query = query.where(Submission.user_id == student_id)
    submissions.regrade(session, session.scalars(query).all(), user)
    return RedirectResponse("/staff/queue", status_code=303)


@router.post("/submissions/{submission_id}/manual/{test_id}")
async def grade_manually(submission_id: RowId, test_id: Identifier, request: Request, user: PageStaff, session: DB) -> Response:
    """The form's fields ``item:<rubric item>`` (blank for 0) and ``comment``, checked as the API's body is."""
    found = views.find_submission(session, submission_id, user)
    form = await request.form()
    try:
        grade = ManualGradeIn.model_validate({
            "items": {key.removeprefix("item:"): value or 0 for key, value in form.items() if key.startswith("item:")},
            "comment": form.get("comment", ""),
        })
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    manual.save_grade(session, found, test_id, grade.items, grade.comment, user)
    session.commit()
    return RedirectResponse(f"/staff/submissions/{submission_id}", status_code=303)
