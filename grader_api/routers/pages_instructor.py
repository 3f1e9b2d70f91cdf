"""Instructor pages: suite upload → line-numbered errors → dry run → publish; assignment settings;
roster import."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from grader_core.suite.loader import MAX_SUITE_BYTES

from ..deps import DB, AppSettings, PageInstructor
from ..models import Course
from ..schemas import RowId, Slug
from ..services import roster, suite_workflow, views
from ..services.assignments import AssignmentSettings, update_settings
from ..templating import templates

router = APIRouter(prefix="/instructor", include_in_schema=False)


@router.get("/suites", response_class=HTMLResponse)
def suites_page(request: Request, user: PageInstructor, session: DB) -> Response:
    assignments = views.assignments_for(session, user)
    return templates.TemplateResponse(request, "instructor_suites.html",
                                      {"user": user, "assignments": assignments, "check": None, "published": None})


@router.post("/suites/check", response_class=HTMLResponse)
def check_suite(request: Request, user: PageInstructor, session: DB, settings: AppSettings,
                file: Annotated[UploadFile, File()]) -> Response:
    # One byte past the limit, uncut, for validation to refuse as too large rather than misread.
    text = file.file.read(MAX_SUITE_BYTES + 1).decode("utf-8", errors="replace")
    result = suite_workflow.check(session, text, settings, user)
    if result.check_id is not None:
        return RedirectResponse(f"/instructor/suites/checks/{result.check_id}", status_code=303)
    return templates.TemplateResponse(request, "instructor_suites.html",
                                      {"user": user, "assignments": views.assignments_for(session, user), "check": result,
                                       "published": None}, status_code=422)


@router.get("/suites/checks/{check_id}", response_class=HTMLResponse)
def suite_check_page(check_id: RowId, request: Request, user: PageInstructor, session: DB) -> Response:
    result = suite_workflow.check_out(suite_workflow.find_check(session, check_id))
    return templates.TemplateResponse(request, "instructor_suites.html",
                                      {"user": user, "assignments": views.assignments_for(session, user), "check": result,
                                       "published": None})


@router.post("/suites/publish", response_class=HTMLResponse)
def publish_suite(request: Request, user: PageInstructor, session: DB, settings: AppSettings,
                  check_id: Annotated[RowId, Form()]) -> Response:
    version, slug = suite_workflow.publish_checked(session, check_id, settings, user)
    return templates.TemplateResponse(request, "instructor_suites.html", {
        "user": user, "assignments": views.assignments_for(session, user), "check": None,
        "published": {"slug": slug, "version": version.number, "sha256": version.sha256},
    })


@router.get("/assignments/{slug}/settings", response_class=HTMLResponse)
def settings_page(slug: Slug, request: Request, user: PageInstructor, session: DB) -> Response:
    assignment = views.find_assignment(session, slug, user)
    return templates.TemplateResponse(request, "instructor_settings.html", {"user": user, "a": assignment, "errors": []})


@router.post("/assignments/{slug}/settings", response_class=HTMLResponse)
async def save_settings(slug: Slug, request: Request, user: PageInstructor, session: DB) -> Response:
    assignment = views.find_assignment(session, slug, user)
    form = await request.form()
    try:
        values = AssignmentSettings(
            title=str(form.get("title", "")), due_at=_utc(str(form.get("due_at", ""))),
            late_penalty_per_day=float(str(form.get("late_penalty_per_day", "0"))),
            late_days_allowed=int(str(form.get("late_days_allowed", "0"))),
            max_submissions=int(str(form.get("max_submissions", "1"))),
            grade_policy=str(form.get("grade_policy", "best")), results_published=form.get("results_published") == "on",
        )
    except (ValidationError, ValueError) as exc:
        return templates.TemplateResponse(request, "instructor_settings.html", {"user": user, "a": assignment, "errors": [str(exc)]},
                                          status_code=422)
    update_settings(session, assignment, values, user)
    session.commit()
    return RedirectResponse(f"/instructor/assignments/{slug}/settings", status_code=303)


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


@router.get("/roster", response_class=HTMLResponse)
def roster_page(request: Request, user: PageInstructor) -> Response:
    return templates.TemplateResponse(request, "instructor_roster.html", {"user": user, "outcome": None})


@router.post("/roster", response_class=HTMLResponse)
def import_roster(request: Request, user: PageInstructor, session: DB, file: Annotated[UploadFile, File()]) -> Response:
    course = session.scalars(select(Course).order_by(Course.id)).first()
    if course is None:
        return templates.TemplateResponse(request, "error.html", {"user": user, "status": 409, "message": "no course yet"}, status_code=409)
    outcome = roster.import_roster(session, course, file.file.read().decode("utf-8-sig", errors="replace"), user)
    session.commit()
    return templates.TemplateResponse(request, "instructor_roster.html", {"user": user, "outcome": outcome})
