"""Students' pages: assignments, the upload and answer forms, their submissions and results."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from ..db import utcnow
from ..deps import DB, AppSettings, PageUser
from ..models import Submission
from ..schemas import RowId, Slug
from ..services import submissions, views
from ..services.answers import answers_yaml
from ..services.submissions import SubmissionRefused
from ..services.suites import load_version
from ..templating import templates
from .common import submit_file

router = APIRouter(include_in_schema=False)


@router.get("/assignments", response_class=HTMLResponse)
def assignments(request: Request, user: PageUser, session: DB) -> Response:
    items = [views.assignment_out(session, a, user) for a in views.assignments_for(session, user)]
    return templates.TemplateResponse(request, "assignments.html", {"user": user, "assignments": items, "now": utcnow()})


@router.get("/assignments/{slug}", response_class=HTMLResponse)
def assignment(slug: Slug, request: Request, user: PageUser, session: DB, error: str | None = None) -> Response:
    found = views.find_assignment(session, slug, user)
    mine = session.scalars(select(Submission).where(Submission.assignment_id == found.id, Submission.user_id == user.id)
                           .order_by(Submission.id.desc()))
    return templates.TemplateResponse(request, "assignment.html", {
        "user": user, "assignment": views.assignment_out(session, found, user),
        "submissions": [views.submission_out(session, s, user) for s in mine], "error": error,
    })


@router.post("/assignments/{slug}/upload")
async def upload(slug: Slug, request: Request, user: PageUser, session: DB, settings: AppSettings) -> Response:
    run = await submit_file(request, session, slug, user, settings)
    return RedirectResponse(f"/submissions/{run.submission_id}", status_code=303)


@router.post("/assignments/{slug}/answers")
async def answers(slug: Slug, request: Request, user: PageUser, session: DB, settings: AppSettings) -> Response:
    found = views.find_assignment(session, slug, user)
    if found.current_suite is None:
        raise SubmissionRefused(409, "this assignment has no published test suite yet")
    spec = load_version(found.current_suite).suite.submission
    if not spec.answers_file or not spec.answers:
        raise SubmissionRefused(409, "this assignment takes a file upload, not a form")
    form = await request.form()
    data = answers_yaml(spec.answers, {key: str(value) for key, value in form.items() if isinstance(value, str)})
    limit = submissions.admit_upload(session, found, user, settings)
    run = submissions.submit_upload(session, found, user, [data], spec.answers_file, settings, limit)
    return RedirectResponse(f"/submissions/{run.submission_id}", status_code=303)


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def submission(submission_id: RowId, request: Request, user: PageUser, session: DB) -> Response:
    found = views.find_submission(session, submission_id, user)
    return templates.TemplateResponse(request, "submission.html", {"user": user, "s": views.submission_out(session, found, user)})
