"""Signing in and out, the home redirect, and the account page: API tokens for the command line
(made, listed, revoked) and the password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from grader_core.config import Settings

from ..deps import DB, AppSettings, PageUser, client_ip
from ..models import User
from ..schemas import PlainText, RowId
from ..security import same_token
from ..services import auth
from ..templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=RedirectResponse)
def home(user: PageUser) -> RedirectResponse:
    return RedirectResponse("/staff/dashboard" if user.is_staff else "/assignments", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return templates.TemplateResponse(request, "login.html", {"user": None, "next": next, "error": None})


@router.post("/login")
def login(request: Request, session: DB, settings: AppSettings, email: Annotated[PlainText, Form()],
          password: Annotated[str, Form()], csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    if not same_token(request.session.get("csrf"), csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
    try:
        user = auth.sign_in(session, email, password, client_ip(request), settings)
    except auth.SignInRefused as refused:
        return templates.TemplateResponse(request, "login.html", {"user": None, "next": next, "error": str(refused)},
                                          status_code=refused.status_code)
    auth.end_session(session, request.session.get("sid"))  # a browser signing in again leaves no live session behind
    request.session.clear()
    request.session["sid"] = auth.start_session(session, user, settings)
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, user: PageUser, session: DB) -> Response:
    auth.end_session(session, request.session.get("sid"))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, user: PageUser, session: DB, settings: AppSettings) -> Response:
    return _account_page(request, user, session, settings)


@router.post("/tokens", response_class=HTMLResponse)
def create_token(request: Request, user: PageUser, session: DB, settings: AppSettings,
                 name: Annotated[PlainText, Form()] = "command line") -> Response:
    token, _ = auth.create_api_token(session, user, name)
    return _account_page(request, user, session, settings, new_token=token)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(user: PageUser, session: DB, token_id: RowId) -> Response:
    if not auth.revoke_api_token(session, user, token_id):
        raise HTTPException(404, "no such token")
    return RedirectResponse("/tokens", status_code=303)


@router.post("/password", response_class=HTMLResponse)
def change_password(request: Request, user: PageUser, session: DB, settings: AppSettings,
                    current_password: Annotated[str, Form()], new_password: Annotated[str, Form()]) -> Response:
    try:
        request.session["sid"] = auth.change_password(session, user, current_password, new_password, settings)
    except auth.SignInRefused as refused:
        return _account_page(request, user, session, settings, error=str(refused), status_code=refused.status_code)
    # The old session (and its CSRF token) is gone: the next page is rendered with the new one.
    return RedirectResponse("/tokens?password_changed=1", status_code=303)


def _account_page(request: Request, user: User, session: Session, settings: Settings, new_token: str | None = None,
                  error: str | None = None, status_code: int = 200) -> Response:
    tokens = [(token, auth.api_token_expires_at(token, settings)) for token in auth.api_tokens_of(session, user)]
    return templates.TemplateResponse(request, "tokens.html", {
        "user": user, "tokens": tokens, "new_token": new_token, "error": error,
        "password_changed": "password_changed" in request.query_params, "min_password_length": auth.MIN_PASSWORD_LENGTH,
    }, status_code=status_code)
